def handler(event, context):
    print(f"greeting {event['name']}")
    return {"greeting": f"Hello, {event['name']}!"}
