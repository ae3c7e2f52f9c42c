// /api/docs: start Swagger UI on the OpenAPI document named by the page. A file rather
// than the inline script FastAPI's helper writes, so the page works under plyr's CSP
// (script-src 'self'). validatorUrl null: no request to the public validator.
(() => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
