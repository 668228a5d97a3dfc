"""Error pages for people, JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood.",
    403: "Your role in this workspace does not allow that.",
    404: "There is nothing here, or you do not have access to it.",
    405: "That action is not allowed here.",
    429: "Too many attempts. Please wait a minute and try again.",
    500: "Something went wrong on our side. Nothing you entered was half-saved.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    """Install the handlers for HTTP errors and CSRF failures."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = "Your form expired or was sent from elsewhere. Reload the page and try again."
        if _wants_json():
            return jsonify(error={"code": "csrf", "message": message}), 400
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        message = MESSAGES.get(code, error.description or error.name)
        if _wants_json():
            response = jsonify(
                error={"code": error.name.lower().replace(" ", "_"), "message": message}
            )
            response.status_code = code
            if code == 405 and error.get_response().headers.get("Allow"):
                response.headers["Allow"] = error.get_response().headers["Allow"]
            return response
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(500)
    def server_error(error: Exception):
        from hub.extensions import db

        db.session.rollback()
        if _wants_json():
            return jsonify(error={"code": "internal_error", "message": MESSAGES[500]}), 500
        return render_template("errors/error.html", code=500, message=MESSAGES[500]), 500
