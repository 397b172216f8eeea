// Live updates: a page whose <main id="live"> carries data-live is fetched again every
// INTERVAL ms and its <main> swapped in, until the server renders it without data-live (the
// execution ended). A page being typed into is left alone; open <details> stay open. A page
// that is slow to render (a long history) is fetched less often: never more than a fifth of
// the time goes to refreshing.
(function () {
  "use strict";
  var INTERVAL = 1500;
  var interval = INTERVAL;

  function busy(main) {
    var active = document.activeElement;
    if (active && main.contains(active) && active.matches("input, textarea, select")) return true;
    return main.querySelector("form[data-dirty]") !== null;
  }

  function swap(main, next) {
    var open = Array.prototype.map.call(main.querySelectorAll("details[id]"), function (d) {
      return [d.id, d.open];
    });
    var flash = main.querySelector(".flash");
    main.innerHTML = next.innerHTML;
    open.forEach(function (pair) {
      var details = document.getElementById(pair[0]);
      if (details) details.open = pair[1];
    });
    if (flash && !main.querySelector(".flash")) main.insertBefore(flash, main.firstChild);
    if (!next.dataset.live) delete main.dataset.live;
  }

  function refresh() {
    var main = document.getElementById("live");
    if (!main || !main.dataset.live) return;
    if (busy(main) || document.hidden) {
      setTimeout(refresh, interval);
      return;
    }
    var began = Date.now();
    fetch(location.href, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok || response.redirected) return null;
      return response.text();
    }).then(function (html) {
      if (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (next) swap(main, next);
      }
    }).catch(function () { /* the server restarts: try again later */ }).then(function () {
      interval = Math.max(INTERVAL, 5 * (Date.now() - began));
      if (main.dataset.live) setTimeout(refresh, interval);
    });
  }

  // The graph inspector: clicking a state in an execution's graph opens that state's latest
  // run in the table below (its input and output) and brings it into view.
  document.addEventListener("click", function (event) {
    var node = event.target.closest && event.target.closest(".graph g.state[data-state]");
    if (!node) return;
    var runs = document.querySelectorAll("tr.run");
    var name = node.getAttribute("data-state");
    var row = null;
    Array.prototype.forEach.call(runs, function (candidate) {
      if (candidate.getAttribute("data-state") === name) row = candidate;
    });
    Array.prototype.forEach.call(document.querySelectorAll("tr.run.inspected"), function (other) {
      other.classList.remove("inspected");
    });
    if (!row) return;
    row.classList.add("inspected");
    var details = row.querySelector("details");
    if (details) details.open = true;
    row.scrollIntoView({block: "center"});
  });

  document.addEventListener("input", function (event) {
    if (event.target.form) event.target.form.dataset.dirty = "1";
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  setTimeout(refresh, interval);
})();
