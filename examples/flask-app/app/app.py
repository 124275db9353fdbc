"""A small Flask application as a Lambda function (apig-wsgi turns API Gateway's and Function
URLs' events into WSGI requests and the WSGI response back into Lambda's response shape).

GET /            an HTML page: a form asking for a name, the greeting of the ``name`` cookie, a PNG
POST /greet      sets the ``name`` cookie and redirects (303) to /
GET /api/hello   JSON: {"message": "Hello, NAME!", "name": NAME or null}
GET /pixel.png   a 1x1 PNG
"""

import struct
import zlib

from apig_wsgi import make_lambda_handler
from flask import Flask, jsonify, make_response, redirect, render_template_string, request

app = Flask(__name__)

PAGE = """<!doctype html>
<html>
  <head><meta charset="utf-8"><title>lambdarig + Flask</title></head>
  <body>
    <h1>lambdarig + Flask</h1>
    {% if name %}<p id="greeting">Hello, {{ name }}!</p>{% endif %}
    <form id="form" method="post" action="{{ url_for('greet') }}">
      <label>Your name <input id="name" name="name" maxlength="40" required></label>
      <button id="submit" type="submit">Greet me</button>
    </form>
    <img id="pixel" src="{{ url_for('pixel') }}" alt="a pixel">
  </body>
</html>
"""


def png_pixel() -> bytes:
    """A 1x1 opaque red PNG, built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte 0, then one red pixel
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


PNG = png_pixel()


@app.get("/")
def index():
    return render_template_string(PAGE, name=request.cookies.get("name"))


@app.post("/greet")
def greet():
    response = redirect("/", code=303)
    response.set_cookie("name", request.form.get("name", "")[:40], httponly=True, samesite="Lax")
    return response


@app.get("/api/hello")
def hello():
    name = request.cookies.get("name")
    return jsonify(message=f"Hello, {name or 'world'}!", name=name)


@app.get("/pixel.png")
def pixel():
    response = make_response(PNG)
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "no-store"
    return response


lambda_handler = make_lambda_handler(app, binary_support=True)
