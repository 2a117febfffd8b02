// The demo page: three buttons, the Yivi frontend (served from the installed
// @privacybydesign/yivi-frontend package, never a CDN) showing the QR code and following the
// session, and the result once it is done. Sessions are started by the server's own demo
// route, so no requestor credential ever reaches the browser.

export const DEMO_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IRMA server demo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/demo/demo.css">
<script src="/demo/yivi.js" defer></script>
<script src="/demo/demo.js" defer></script>
</head>
<body>
<main>
  <h1>IRMA server demo</h1>
  <p id="about">Loading&hellip;</p>
  <div class="buttons">
    <button id="issuance" type="button" disabled>Issue a credential</button>
    <button id="disclosure" type="button" disabled>Disclose attributes</button>
    <button id="signature" type="button" disabled>Sign a message</button>
  </div>
  <section id="session" hidden>
    <div id="yivi-web-form"></div>
    <details>
      <summary>Session pointer (for a headless wallet: <code>npx irma-server wallet</code>)</summary>
      <pre id="pointer"></pre>
    </details>
  </section>
  <section id="outcome" hidden>
    <h2 id="outcome-title"></h2>
    <dl id="outcome-list"></dl>
    <pre id="outcome-raw"></pre>
  </section>
</main>
</body>
</html>
`;

export const DEMO_CSS = `body { font-family: system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1b1f24; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
.buttons { display: flex; gap: .5rem; flex-wrap: wrap; margin: 1rem 0; }
button { padding: .6rem 1rem; border: 0; border-radius: .4rem; background: #004c92; color: #fff; font-size: 1rem; cursor: pointer; }
button:disabled { background: #8a99a8; cursor: default; }
#yivi-web-form { margin: 1rem 0; }
pre { white-space: pre-wrap; word-break: break-all; background: #fff; padding: .5rem; border-radius: .3rem; font-size: .8rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
`;

// Plain ES2017 for any browser; `yivi` is the global that yivi.js defines.
export const DEMO_JS = `(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var current = null;

  function show(title, rows, raw) {
    $('outcome').hidden = false;
    $('outcome-title').textContent = title;
    var list = $('outcome-list');
    list.textContent = '';
    rows.forEach(function (row) {
      var dt = document.createElement('dt');
      dt.textContent = row[0];
      var dd = document.createElement('dd');
      dd.textContent = row[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    $('outcome-raw').textContent = raw === undefined ? '' : JSON.stringify(raw, null, 2);
  }

  function disclosedRows(disclosed) {
    var rows = [];
    (disclosed || []).forEach(function (con) {
      con.forEach(function (a) { rows.push([a.id, a.rawvalue === null ? '(empty)' : a.rawvalue]); });
    });
    return rows;
  }

  function render(kind, answer) {
    var r = answer.result;
    if (r.status !== 'DONE') return show('Session ended: ' + r.status, [], r);
    if (kind === 'issuance') {
      var rows = Object.keys(answer.issued.attributes).map(function (k) { return [k, answer.issued.attributes[k]]; });
      return show('Issued ' + answer.issued.credential, rows);
    }
    if (r.proofStatus !== 'VALID') return show('Proof ' + r.proofStatus, disclosedRows(r.disclosed), r);
    if (kind === 'signature') {
      return show('Signed: "' + r.signature.message + '"', disclosedRows(r.disclosed), r.signature);
    }
    return show('Disclosed', disclosedRows(r.disclosed));
  }

  var info = {};

  function start(kind) {
    if (current) { try { current.abort(); } catch (e) { /* already ended */ } }
    $('outcome').hidden = true;
    $('pointer').textContent = '';
    $('session').hidden = false;
    var old = $('yivi-web-form');
    var fresh = document.createElement('div');
    fresh.id = 'yivi-web-form';
    old.parentNode.replaceChild(fresh, old);
    current = yivi.newWeb({
      element: '#yivi-web-form',
      language: 'en',
      // Without server-sent events on the server, poll from the start instead of trying them first.
      state: info.sse ? {} : { serverSentEvents: false },
      session: {
        url: location.origin,
        start: {
          url: function (o) { return o.url + '/demo/session'; },
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ type: kind }),
        },
        mapping: {
          sessionPtr: function (r) { $('pointer').textContent = JSON.stringify(r.sessionPtr); return r.sessionPtr; },
          sessionToken: function (r) { return r.handle; },
          frontendRequest: function (r) { return r.frontendRequest; },
        },
        result: {
          url: function (o, m) { return o.url + '/demo/session/' + m.sessionToken + '/result'; },
          method: 'GET',
        },
      },
    });
    current.start()
      .then(function (answer) { render(kind, answer); })
      .catch(function (e) { show('Session did not complete', [['reason', String(e && e.message || e)]]); });
  }

  fetch('/demo/info').then(function (r) { return r.json(); }).then(function (got) {
    info = got;
    if (!info.credential) {
      $('about').textContent = 'No loaded credential type can be issued by this server (it needs an issuer private key and a scheme without keyshare server).';
      return;
    }
    $('about').textContent = 'Sessions use ' + info.credential + '. Scan the QR code with the Yivi app (if it knows this scheme), or paste the session pointer into the headless wallet.';
    ['issuance', 'disclosure', 'signature'].forEach(function (kind) {
      var b = $(kind);
      b.disabled = false;
      b.addEventListener('click', function () { start(kind); });
    });
  });
})();
`;
