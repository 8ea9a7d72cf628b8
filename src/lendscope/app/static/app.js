// Draws every chart of the page from the Vega-Lite specs embedded by the server, in the page's
// colours (light or dark, from the CSS variables), and makes the quarter and vintage pickers
// reload the page. vegaEmbed comes from vendor/vega-bundle.js. Without JavaScript, each chart's
// data table (open by default) stands in for it.
const specsEl = document.getElementById("chart-specs");
const specs = specsEl ? JSON.parse(specsEl.textContent) : {};
const dark = window.matchMedia("(prefers-color-scheme: dark)");

function theme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  const ink = v("--ink"), muted = v("--muted"), line = v("--line");
  const axis = { labelColor: muted, titleColor: ink, gridColor: line, domainColor: muted, tickColor: muted };
  return {
    background: null,
    axis,
    legend: { labelColor: ink, titleColor: ink },
    title: { color: ink, subtitleColor: muted },
    view: { stroke: null },
    text: { color: ink },
  };
}

function draw() {
  const options = {
    renderer: "svg",
    config: theme(),
    tooltip: { theme: dark.matches ? "dark" : "light" },
    actions: { export: true, source: false, compiled: false, editor: false },
  };
  for (const [name, spec] of Object.entries(specs)) {
    const el = document.getElementById(`chart-${name}`);
    if (!el) continue;
    window.vegaEmbed(el, spec, options).then(
      () => {
        el.setAttribute("data-rendered", "true");
        const details = el.closest("figure")?.querySelector("details.chart-data");
        if (details && !details.dataset.touched) details.open = false;
      },
      (err) => {
        el.textContent = `Chart could not be drawn (the table below has its figures): ${err}`;
        console.error(err);
      },
    );
  }
}

for (const d of document.querySelectorAll("details.chart-data")) {
  d.querySelector("summary")?.addEventListener("click", () => (d.dataset.touched = "1"));
}
draw();
dark.addEventListener("change", draw);

for (const select of document.querySelectorAll("form.picker select")) {
  select.addEventListener("change", () => {
    const form = select.form;
    for (const s of form.querySelectorAll("select")) s.disabled = s.value === "";
    form.submit();
  });
}
