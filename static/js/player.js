/* The simulated player (templates/activity/player.html).
 *
 * One simulated minute passes each real second. While playing, the page
 * posts a heartbeat every few seconds (and on pause, skip, finish and when
 * the page is left) with the seconds watched in this play and the progress
 * (0..1) through the title; the server keeps the furthest point reached and
 * marks the viewing completed past 90 %.
 *
 * Heartbeats go through the page's htmx form (hx-trigger="heartbeat"), so
 * the CSRF header on <body> and the status swap come from htmx; without htmx
 * they are posted with fetch, carrying the form's CSRF token. Without
 * JavaScript the page offers plain buttons instead ("Mark as watched",
 * "Stop at 50%"), which this script hides once the player runs. At the end
 * of the title, Play gives way to the page's "Play again" form (a new play,
 * from the beginning), whether or not this play was kept; of a series, its
 * first button is "Next episode", which takes the focus.
 */
(function () {
  "use strict";

  var SIMULATED_SECONDS_PER_SECOND = 60;
  var HEARTBEAT_EVERY_MS = 5000;
  var TICK_MS = 250;
  var SKIP_SECONDS = 10 * 60;

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return hours ? hours + ":" + two(minutes) + ":" + two(secs) : minutes + ":" + two(secs);
  }

  function start(player) {
    var runtime = Number(player.dataset.runtime) || 6000;
    var position = Math.min(1, Math.max(0, Number(player.dataset.progress) || 0)) * runtime;
    var watched = Number(player.dataset.seconds) || 0;
    var q = function (selector) { return player.querySelector(selector); };
    var bar = q("[data-player-bar]");
    var elapsed = q("[data-player-elapsed]");
    var percent = q("[data-player-percent]");
    var state = q("[data-player-state]");
    var controls = q("[data-player-controls]");
    var playButton = q("[data-player-play]");
    var pauseButton = q("[data-player-pause]");
    var skipButton = q("[data-player-skip]");
    var form = q("[data-player-heartbeat]");
    var fallback = q("[data-player-fallback]");
    var again = q("[data-player-again]");
    var againButton = again && again.querySelector("button");
    var playing = false;
    var lastTick = 0;
    var lastBeat = 0;
    var sent = "";

    function progress() {
      return Math.min(1, Math.max(0, position / runtime));
    }

    function draw() {
      var p = progress();
      bar.value = p;
      bar.textContent = Math.floor(p * 100) + "%";
      elapsed.textContent = clock(position);
      percent.textContent = Math.floor(p * 100) + "%";
      var finished = p >= 1;
      state.textContent = finished ? "Finished" : playing ? "Playing" : "Paused";
      // At the end, Play has nothing left to play: "Play again" starts over.
      playButton.hidden = playing || finished;
      pauseButton.hidden = !playing;
      skipButton.disabled = finished;
      if (again && finished) {
        again.hidden = false;
      }
    }

    function beat(useBeacon) {
      var values = progress().toFixed(4) + "|" + Math.round(watched);
      if (values === sent) {
        return;
      }
      sent = values;
      form.elements.progress.value = progress().toFixed(4);
      form.elements.seconds.value = String(Math.round(watched));
      lastBeat = Date.now();
      if (useBeacon && navigator.sendBeacon) {
        navigator.sendBeacon(form.action + "?beacon=1", new FormData(form));
      } else if (window.htmx) {
        window.htmx.trigger(form, "heartbeat");
      } else {
        fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
      }
    }

    function setPlaying(on) {
      var hadFocus = player.contains(document.activeElement);
      playing = on && progress() < 1;
      lastTick = Date.now();
      draw();
      if (hadFocus) {
        if (playing) {
          pauseButton.focus();
        } else if (!playButton.hidden) {
          playButton.focus();
        } else if (againButton) {
          againButton.focus();
        }
      }
      if (!playing) {
        beat(false);
      }
    }

    function tick() {
      if (!playing) {
        return;
      }
      var now = Date.now();
      var step = ((now - lastTick) / 1000) * SIMULATED_SECONDS_PER_SECOND;
      lastTick = now;
      step = Math.min(step, runtime - position);
      position += step;
      watched += step;
      if (position >= runtime) {
        position = runtime;
        setPlaying(false);
        return;
      }
      draw();
      if (now - lastBeat >= HEARTBEAT_EVERY_MS) {
        beat(false);
      }
    }

    playButton.addEventListener("click", function () { setPlaying(true); });
    pauseButton.addEventListener("click", function () { setPlaying(false); });
    skipButton.addEventListener("click", function () {
      position = Math.min(runtime, position + SKIP_SECONDS);
      if (position >= runtime) {
        setPlaying(false);
      } else {
        draw();
        beat(false);
      }
    });
    window.addEventListener("pagehide", function () { beat(true); });

    controls.hidden = false;
    if (fallback) {
      fallback.hidden = true;
    }
    sent = progress().toFixed(4) + "|" + Math.round(watched);
    setInterval(tick, TICK_MS);
    // The viewer pressed Play to get here: play at once, unless already watched.
    setPlaying(!player.hasAttribute("data-completed"));
  }

  function init() {
    var players = document.querySelectorAll("[data-player]");
    for (var i = 0; i < players.length; i++) {
      start(players[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
