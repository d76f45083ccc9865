"""The demo shop: data and generators behind ``manage.py load_demo``.

catalog_data (the catalogue as data), images (product photos drawn with
Pillow), catalog / stores / people / orders (the writers), load (the order
they run in). Kept import-light: drawing workers import ``images`` alone.
"""
