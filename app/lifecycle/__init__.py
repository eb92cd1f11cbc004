"""A force's life as verified commands: onboard, move between pooled and dedicated, export, offboard.

Here, not in app.tenancy, because these commands handle every domain's rows and the documents' storage, which
sit above the platform layer (tests/test_layering.py).
"""
