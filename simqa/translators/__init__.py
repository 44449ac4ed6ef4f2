"""Translators turn a question (plus retrieved context) into a validated `Request`."""

from simqa.translators.base import Translation, TranslationContext, Translator, Turn

__all__ = ["Translation", "TranslationContext", "Translator", "Turn"]
