"""Active tracing (X-Ray): the trace header Lambda gives the runtime, the sampling decision and
the segments Lambda sends for each sampled invocation (``segments``, sans-IO), and sending them
to an X-Ray daemon over UDP (``daemon``, asyncio).

Fed by ``functions.FunctionHost`` when the function's tracing mode is ``Active``. Imports
nothing: import the modules you need.

https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
"""
