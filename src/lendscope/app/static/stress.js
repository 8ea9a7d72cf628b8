// The stress and upload forms: a busy indicator while the POST runs, and the permalink in the
// address bar once a result is shown. Without JavaScript the forms post as usual and the
// answer is a full page (the browser's own progress shows meanwhile).
for (const form of document.querySelectorAll("form[data-busy]")) {
  form.addEventListener("submit", () => {
    const busy = document.getElementById(form.dataset.busy);
    if (busy) busy.hidden = false;
    form.setAttribute("aria-busy", "true");
    for (const b of form.querySelectorAll("button[type=submit]")) {
      // disabled after the submit has started, so the button's own value is still sent
      setTimeout(() => { b.disabled = true; }, 0);
    }
  });
}
// Back from the bfcache: the form is usable again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.removeAttribute("aria-busy");
    const busy = document.getElementById(form.dataset.busy);
    if (busy) busy.hidden = true;
    for (const b of form.querySelectorAll("button[type=submit]")) b.disabled = false;
  }
});
const link = document.getElementById("permalink");
if (link && location.pathname !== link.getAttribute("href")) {
  history.replaceState(null, "", link.getAttribute("href"));
}
