// Swagger UI on quotaplan's own OpenAPI document (same origin; bearer tokens via "Authorize").
"use strict";
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
});
