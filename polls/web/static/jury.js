// Jury room pages: follow the room's websocket, send commands on it, tick the timers.
// Without JavaScript the page works by posting forms and reloading; this only makes it live.
(function () {
  "use strict";
  var room = document.getElementById("jury-room");
  if (!room || !window.WebSocket) return;
  var socketPath = room.getAttribute("data-socket");
  var lastId = parseInt(room.getAttribute("data-seq"), 10) || 0;
  // Server time minus ours, so every device counts down to the same second.
  var offset = parseFloat(room.getAttribute("data-server-now")) - Date.now() / 1000;
  var socket = null;
  var retry = 500;
  var refreshing = null;
  var INT_FIELDS = ["item", "seconds", "juror", "poll", "option", "recommendation"];

  function showError(text) {
    var box = document.getElementById("room-error");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  // One short line per change for screen readers; the room itself is not a live region, as it
  // is redrawn whole.
  function announce(type) {
    var region = document.getElementById("room-announce");
    if (region) region.textContent = type.replace(/_/g, " ");
  }

  function tick() {
    var now = Date.now() / 1000 + offset;
    var timers = document.querySelectorAll(".app-timer");
    for (var i = 0; i < timers.length; i++) {
      var remaining = parseFloat(timers[i].getAttribute("data-remaining"));
      var started = timers[i].getAttribute("data-started-at");
      var left = started ? Math.max(0, remaining - (now - parseFloat(started))) : remaining;
      var whole = Math.round(left);
      timers[i].textContent = Math.floor(whole / 60) + ":" + ("0" + (whole % 60)).slice(-2);
    }
  }

  // Re-read the room (rendered server-side for this audience, from the server's memory) and swap
  // it in. Observers, who may be thousands, spread their requests over a second.
  var observer = room.getAttribute("data-role") === "observer";
  function refresh() {
    if (refreshing) return;
    refreshing = setTimeout(function () {
      var asked = Date.now();
      fetch(room.getAttribute("data-fragment"), { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          var serverNow = parseFloat(r.headers.get("X-Server-Now"));
          if (!isNaN(serverNow)) offset = serverNow - (asked + Date.now()) / 2000;
          return r.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("jury-room");
          refreshing = null;
          if (!fresh) return;
          var error = document.getElementById("room-error");
          var keep = error && !error.hidden ? error.textContent : "";
          room.innerHTML = fresh.innerHTML;
          room.setAttribute("data-seq", fresh.getAttribute("data-seq"));
          showError(keep);
          tick();
          // Served by an instance that had not heard the latest event yet: ask again.
          if (parseInt(fresh.getAttribute("data-seq"), 10) < lastId) refresh();
        })
        .catch(function () { refreshing = null; });
    }, observer ? Math.random() * 1000 : 150);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var joiner = socketPath.indexOf("?") >= 0 ? "&" : "?";
    socket = new WebSocket(scheme + location.host + socketPath + joiner + "after=" + lastId);
    socket.onopen = function () { retry = 500; };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type === "event") {
        lastId = data.id;
        announce(data.event.type);
        if (data.state) refresh();
      } else if (data.type === "snapshot") {
        if (data.id !== parseInt(room.getAttribute("data-seq"), 10)) refresh();
        lastId = data.id;
      } else if (data.type === "error") {
        showError(data.message);
      } else if (data.type === "ack") {
        showError("");
      }
    };
    socket.onclose = function (closed) {
      socket = null;
      if (closed.code === 4401 || closed.code === 4404) {
        // Off the panel, or a link that no longer works: reconnecting cannot help.
        showError(closed.code === 4401
          ? room.getAttribute("data-link-gone") || "This room link no longer works. Ask the jury's organisers if you think this is wrong."
          : room.getAttribute("data-unavailable") || "This session is not available.");
        return;
      }
      if (closed.code === 1012) {
        // That server is restarting: come back soon, spread out, through the load balancer.
        setTimeout(connect, 250 + Math.random() * 1500);
        return;
      }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  function commandFrom(form) {
    var command = { v: 2 };
    var fields = new FormData(form);
    fields.forEach(function (value, key) {
      if (key === "csrf_token") return;
      value = String(value).trim();
      if (INT_FIELDS.indexOf(key) >= 0) {
        if (value !== "") command[key] = /^[0-9]{1,9}$/.test(value) ? parseInt(value, 10) : value;
      } else if (key === "minutes") {
        command[key] = parseFloat(value);
      } else if (key === "options") {
        command[key] = value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
      } else if (!((key === "url" || key === "witness") && value === "")) {
        command[key] = value;
      }
    });
    return command;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("js-command")) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) return; // fall back to posting the form
    event.preventDefault();
    socket.send(JSON.stringify(commandFrom(form)));
  });

  tick();
  setInterval(tick, 1000);
  connect();
})();
