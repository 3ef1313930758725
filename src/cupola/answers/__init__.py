"""The presentation layer: the only JSON serialiser and the en/fr words of every answer.

- :mod:`cupola.answers.json`: ``where_json(scene, lang)``, the versioned answer object.
- :mod:`cupola.answers.text`: ``where_text(answer, lang, hints)``, its human lines.
- :mod:`cupola.answers.i18n`: languages, labels, number formats, compass words.

The CLI, the demo and the Python API all answer through these functions, so they never disagree.
"""

from .i18n import LANGS, check_lang
from .json import SCHEMA_VERSION, in_view_json, where_json
from .text import in_view_lines, where_text

__all__ = ["LANGS", "SCHEMA_VERSION", "check_lang", "in_view_json", "in_view_lines", "where_json", "where_text"]
