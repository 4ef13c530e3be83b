"""Where the pages' templates and served files are: inside the package, so they install with it.

The front-end sources stay in the repository's top-level web/ (package.json, scss/); its npm
build writes static/app.css and copies GOV.UK Frontend's fonts and images into assets/ here.
"""

from pathlib import Path

_HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = _HERE / "templates"  # Jinja2 templates, grouped by who reads the page
STATIC_DIR = _HERE / "static"  # served at /static/: app.css (built), app.js, jury.js, analysis.js
ASSETS_DIR = _HERE / "assets"  # served at /assets/: GOV.UK Frontend's fonts and images (built)
