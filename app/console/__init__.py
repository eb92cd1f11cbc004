"""The console: Concord in a browser, server-rendered under /console, calling the same services as the API."""
