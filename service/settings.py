"""Runtime configuration: one Settings class, read from SCANMATCH_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImageLimits(BaseModel):
    # 25 MB covers a 16-bit 4k x 3k scanner export; larger uploads are refused before decoding.
    max_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # Well under Pillow's own decompression-bomb threshold (~89 MP), so we refuse first, clearly.
    max_pixels: int = Field(default=40_000_000, gt=0)


class Settings(BaseSettings):
    """Everything the service reads from its environment (prefix SCANMATCH_, nesting with __)."""

    model_config = SettingsConfigDict(env_prefix="SCANMATCH_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    images: ImageLimits = ImageLimits()
    auto_migrate: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "json"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'scanmatch.db').resolve()}"

    @property
    def image_dir(self) -> Path:
        return self.data_dir / "images"


@lru_cache
def get_settings() -> Settings:
    return Settings()
