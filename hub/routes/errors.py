"""Error pages for people, JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood.",
    403: "Your role in this workspace does not allow that. Ask one of its owners if you "
    "need more access.",
    404: "There is nothing here, or you do not have access to it.",
    405: "That action is not allowed here.",
    410: "This is no longer available.",
    429: "Too many attempts. Please wait a minute and try again.",
    500: "Something went wrong on our side. Nothing you entered was half-saved.",
}
CSRF_MESSAGE = "Your form expired or was sent from elsewhere. Reload the page and try again."

# Headers an error must keep, whichever body it gets (405 must say what is allowed;
# the rate limiter's Retry-After tells clients when to come back).
KEPT_HEADERS = ("Allow", "Retry-After")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _json_error(status: int, code: str, message: str):
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def _error_page(status: int, message: str):
    return render_template("errors/error.html", code=status, message=message), status


def register(app: Flask) -> None:
    """Install the handlers for HTTP errors and CSRF failures."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if _wants_json():
            return _json_error(400, "csrf", CSRF_MESSAGE)
        return _error_page(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        message = MESSAGES.get(code, error.description or error.name)
        if _wants_json():
            response = _json_error(code, error.name.lower().replace(" ", "_"), message)
        else:
            body, _ = _error_page(code, message)
            response = app.make_response((body, code))
        original = error.get_response()
        for name in KEPT_HEADERS:
            if name in original.headers:
                response.headers[name] = original.headers[name]
        return response

    @app.errorhandler(500)
    def server_error(error: Exception):
        from hub.extensions import db

        db.session.rollback()
        if _wants_json():
            return _json_error(500, "internal_error", MESSAGES[500])
        return _error_page(500, MESSAGES[500])
