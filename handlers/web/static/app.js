// The Mini App's one job: hand Telegram's launch data to the server, which checks it and
// starts a session, then open the queue.
(function () {
  var status = document.getElementById("status");
  var app = window.Telegram && window.Telegram.WebApp;
  if (!app || !app.initData) {
    status.textContent = status.dataset.outside;
    return;
  }
  app.ready();
  var body = new URLSearchParams({ init_data: app.initData });
  fetch(status.dataset.session, { method: "POST", body: body, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { return response.text().then(function (text) { throw new Error(text); }); }
      return response.json();
    })
    .then(function (answer) { window.location.replace(answer.next); })
    .catch(function (error) { status.textContent = error.message; });
})();
