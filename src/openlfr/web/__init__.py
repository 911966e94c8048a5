"""The operator console: server-rendered pages, a little JavaScript, and the camera preview."""
