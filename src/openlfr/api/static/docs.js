// Starts Swagger UI on this server's OpenAPI document. A file, not an inline script, so the
// page runs under the same Content-Security-Policy as the rest of the app (script-src 'self').
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Calls made from the page send the console's session cookie (same origin).
  withCredentials: true,
});
