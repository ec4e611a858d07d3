"""ASGI entry point for process managers (uvicorn --workers, gunicorn): settings from the environment."""

from service.api.app import create_app

app = create_app()
