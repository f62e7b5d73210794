/* Progressive enhancement: with JavaScript the referral feels like a chat (earlier questions and
   answers stay on screen, the page does not reload); without it every form still works alone. */
(function () {
  "use strict";
  var transcript = document.getElementById("transcript");
  var busy = false;

  function say(kind, text) {
    if (!transcript || !text) { return; }
    var item = document.createElement("li");
    item.className = kind;
    item.textContent = text;  /* text, never HTML: answers are the referrer's own words */
    transcript.appendChild(item);
    transcript.hidden = false;
  }

  function answerOf(form, submitter) {
    if (submitter && submitter.name === "choice") { return submitter.textContent.replace(/^✓\s*/, "").trim(); }
    if (submitter && submitter.name === "command") { return submitter.textContent.trim(); }
    var field = form.querySelector("[name=text]");
    return field ? field.value.trim() : "";
  }

  function settle(doc) {
    var next = doc.getElementById("turn");
    var here = document.getElementById("turn");
    if (!next || !here) { return false; }
    var shown = document.querySelector("main > .crisis");  /* an earlier turn's crisis block, moved to the top */
    if (shown) { shown.remove(); }
    here.replaceWith(next);
    bind(next);
    var crisis = next.querySelector("#crisis");
    if (crisis && transcript) {  /* crisis resources go to the top of the page, above the conversation */
      transcript.parentNode.insertBefore(crisis, transcript);
      window.scrollTo(0, 0);
    }
    var target = crisis || next.querySelector("#answer") ||
      next.querySelector(".choices button") || next.querySelector("button");
    if (target) { target.focus(); }
    return true;
  }

  function submit(event) {
    var form = event.target;
    var submitter = event.submitter || form.querySelector("button[type=submit]");
    if (busy || !window.fetch || !window.FormData || !transcript) { return; }
    event.preventDefault();
    busy = true;
    var data = new URLSearchParams(new FormData(form));
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    if (submitter) { submitter.setAttribute("aria-busy", "true"); }
    var question = document.getElementById("question");
    var asked = question ? question.textContent : "";
    var answer = answerOf(form, submitter);
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                         headers: { "Content-Type": "application/x-www-form-urlencoded" } })
      .then(function (response) {
        if (!response.ok || !response.redirected) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.getElementById("turn")) { throw new Error("unexpected page"); }
        say("bot", asked);
        say("you", answer);
        settle(doc);
        busy = false;
      })
      .catch(function () {  /* fall back to an ordinary post: the server is the source of truth */
        busy = false;
        if (submitter && submitter.name) {
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
          form.appendChild(hidden);
        }
        HTMLFormElement.prototype.submit.call(form);
      });
  }

  function bind(root) {
    var forms = root.querySelectorAll("form[data-chat]");
    for (var i = 0; i < forms.length; i++) { forms[i].addEventListener("submit", submit); }
  }

  bind(document);
})();
