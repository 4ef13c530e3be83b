// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function focusErrorSummary() {
    // Take keyboard and screen-reader users straight to the list of problems on a failed form.
    var summary = document.querySelector(".govuk-error-summary");
    if (summary) summary.focus();
  }

  function budgetTotals() {
    // A running total under each budget question, so residents see what they have spent.
    document.querySelectorAll("[data-budget]").forEach(function (group) {
      var limit = parseInt(group.getAttribute("data-budget"), 10);
      var out = group.parentNode.querySelector(".app-budget-total");
      if (!out) return;
      function update() {
        var spent = 0;
        group.querySelectorAll("input[data-cost]:checked").forEach(function (box) {
          spent += parseInt(box.getAttribute("data-cost"), 10);
        });
        out.hidden = false;
        // The words come from the page (data-chosen, data-over) in the page's language.
        out.textContent = (out.getAttribute("data-chosen") || "Chosen: £%(spent)s of £%(limit)s")
          .replace("%(spent)s", spent.toLocaleString("en-GB"))
          .replace("%(limit)s", limit.toLocaleString("en-GB")) +
          (spent > limit ? " – " + (out.getAttribute("data-over") || "over budget, remove something") : "");
        out.classList.toggle("govuk-error-message", spent > limit);
      }
      group.addEventListener("change", update);
      update();
    });
  }

  function tapToRank() {
    // Tap options in order of preference; tapping a ranked option takes it (and later ones) out.
    document.querySelectorAll("[data-rank]").forEach(function (group) {
      var selects = Array.prototype.slice.call(group.querySelectorAll("select"));
      selects.forEach(function (select) {
        var row = select.parentNode;
        var button = document.createElement("button");
        button.type = "button";
        button.className = "govuk-button govuk-button--secondary app-rank__button";
        function label() {
          button.textContent = (select.value ? select.value + ". " : "Rank ") + row.querySelector("label").textContent;
        }
        button.addEventListener("click", function () {
          var current = parseInt(select.value || "0", 10);
          if (current) {
            selects.forEach(function (s) { if (parseInt(s.value || "0", 10) >= current) s.value = ""; });
          } else {
            var taken = selects.filter(function (s) { return s.value; }).length;
            select.value = String(taken + 1);
          }
          group.querySelectorAll(".app-rank__button").forEach(function (b) { b.dispatchEvent(new Event("relabel")); });
        });
        button.addEventListener("relabel", label);
        label();
        row.appendChild(button);
        select.parentNode.classList.add("app-rank__row--enhanced");
      });
    });
  }

  function liveResults() {
    var box = document.getElementById("live-results");
    if (!box || !box.getAttribute("data-live") || !window.WebSocket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/live/polls/" + box.getAttribute("data-poll");
    function connect(delay) {
      var socket = new WebSocket(url);
      socket.onmessage = function (event) {
        var message = JSON.parse(event.data);
        if (message.type !== "counts") return;
        box.querySelectorAll("[data-count]").forEach(function (cell) {
          var value = message.counts[cell.getAttribute("data-count")];
          cell.textContent = value === undefined ? "0" : String(value);
        });
      };
      socket.onopen = function () { delay = 1000; };
      socket.onclose = function (closed) {
        // 1012: that server is restarting; come back soon, spread out, through the load balancer.
        var wait = closed.code === 1012 ? 500 + Math.random() * 1500 : delay;
        setTimeout(function () { connect(Math.min(delay * 2, 30000)); }, wait);
      };
    }
    connect(1000);
  }

  function receiptButtons() {
    // Copy the receipt to the clipboard, or print the page: buttons that only work with JavaScript.
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = button.getAttribute("data-copied") || "Copied";  // in the page's language
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      if (!window.print) return;
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    receiptButtons();
    focusErrorSummary();
    budgetTotals();
    tapToRank();
    liveResults();
  });
})();
