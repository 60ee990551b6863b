// Preview only (never published): shows the last rebuild's problems over the
// last good page. The server writes them to _preview/status.json.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  fetch(script.getAttribute("data-status"), { cache: "no-store" })
    .then(function (response) { return response.json(); })
    .then(function (status) {
      if (!status.problems || !status.problems.length) { return; }
      var words = (status.languages || {})[document.documentElement.lang] || status;
      var box = document.createElement("section");
      box.className = "preview-overlay";
      box.setAttribute("role", "alert");
      box.setAttribute("aria-labelledby", "preview-overlay-heading");
      var heading = document.createElement("h2");
      heading.id = "preview-overlay-heading";
      heading.textContent = words.heading;
      var note = document.createElement("p");
      note.textContent = words.note;
      var list = document.createElement("pre");
      list.textContent = status.problems.join("\n");
      box.appendChild(heading);
      box.appendChild(note);
      box.appendChild(list);
      document.body.insertBefore(box, document.body.firstChild);
    })
    .catch(function () { /* no status: nothing to show */ });
}());
