// Draws every chart of the page from the Vega-Lite specs embedded by the server, and makes the
// quarter and vintage pickers reload the page. vegaEmbed comes from vendor/vega-bundle.js.
const specsEl = document.getElementById("chart-specs");
const specs = specsEl ? JSON.parse(specsEl.textContent) : {};
const options = {
  renderer: "svg",
  actions: { export: true, source: false, compiled: false, editor: false },
};
for (const [name, spec] of Object.entries(specs)) {
  const el = document.getElementById(`chart-${name}`);
  if (!el) continue;
  window.vegaEmbed(el, spec, options).then(
    () => el.setAttribute("data-rendered", "true"),
    (err) => {
      el.textContent = `Chart could not be drawn: ${err}`;
      console.error(err);
    },
  );
}
for (const select of document.querySelectorAll("form.picker select")) {
  select.addEventListener("change", () => {
    const form = select.form;
    for (const s of form.querySelectorAll("select")) s.disabled = s.value === "";
    form.submit();
  });
}
