// Starts Swagger UI from the settings /docs carries as data (templates/swagger_ui.html): no inline script.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = {url: container.dataset.specUrl, dom_id: "#swagger-ui-container"};
  Object.assign(config, JSON.parse(document.getElementById("swagger-ui-config").textContent));
  window.ui = SwaggerUIBundle(config);
});
