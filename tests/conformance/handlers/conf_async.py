"""An ``async def`` handler: awslambdaric cannot marshal the coroutine; lambdarig awaits it."""

import asyncio


async def handler(event, context):
    await asyncio.sleep(0)
    return {"awaited": event}
