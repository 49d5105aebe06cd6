/* abm first-party tracking snippet, served by abm at /t.js. No dependencies, no third-party
   cookies: the visitor id is a first-party cookie of the site that includes this script.
   Usage:
     <script async src="https://abm.example.com/t.js"></script>
     abm('identify', 'jane@acme.com'); abm('track', 'content_download', {topic: 'Intent Data'});
     abm('consent', true); abm('personalize', function (variant) { ... });
   Nothing is sent when the browser asks not to be tracked (Do-Not-Track, Global Privacy
   Control) or after abm('consent', false). */
(function (w, d) {
  'use strict';
  var script = d.currentScript;
  var base = script ? new URL(script.src, location.href).origin : '';
  var auto = !script || script.getAttribute('data-auto') !== 'false';
  var days = 395;
  var consent = null;
  var queued = (w.abm && w.abm.q) || [];

  function refused() {
    var n = w.navigator || {};
    return n.doNotTrack === '1' || w.doNotTrack === '1' || n.globalPrivacyControl === true || consent === false;
  }
  function randomId(bytes) {
    var a = new Uint8Array(bytes);
    (w.crypto || w.msCrypto).getRandomValues(a);
    var s = '';
    for (var i = 0; i < a.length; i++) s += ('0' + a[i].toString(16)).slice(-2);
    return s;
  }
  function visitor() {
    var m = d.cookie.match(/(?:^|; )_abm_vid=([A-Za-z0-9_-]{16,64})/);
    var id = m ? m[1] : randomId(16);
    d.cookie = '_abm_vid=' + id + '; Max-Age=' + days * 86400 + '; Path=/; SameSite=Lax' +
      (location.protocol === 'https:' ? '; Secure' : '');
    return id;
  }
  function send(event) {
    if (refused()) return;
    event.id = randomId(12);
    event.visitor = visitor();
    if (consent !== null) event.consent = consent;
    var body = JSON.stringify({ events: [event] });
    var url = base + '/t/collect';
    // text/plain keeps the request simple (no CORS preflight); the beacon survives unload.
    if (w.navigator.sendBeacon && w.navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) return;
    if (w.fetch) w.fetch(url, { method: 'POST', body: body, keepalive: true, headers: { 'Content-Type': 'text/plain' } });
  }
  var api = {
    page: function () {
      send({ type: 'page_view', url: location.href, referrer: d.referrer || undefined, title: d.title || undefined });
    },
    identify: function (email) { if (email) send({ type: 'identify', email: String(email) }); },
    track: function (name, props) {
      props = props || {};
      send({ type: 'custom', name: String(name), url: location.href, topic: props.topic, campaign: props.campaign });
    },
    consent: function (granted) { consent = !!granted; },
    personalize: function (callback) {
      if (refused() || !w.fetch) { callback(null); return; }
      w.fetch(base + '/t/personalize?visitor=' + encodeURIComponent(visitor()))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(callback, function () { callback(null); });
    }
  };
  // A submitted form with an email field identifies the visitor (unless marked data-abm="off").
  d.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form || !form.querySelector || form.getAttribute('data-abm') === 'off') return;
    var field = form.querySelector('input[type=email], input[name=email]');
    var email = field && field.value ? field.value : undefined;
    send({ type: 'form_submit', url: location.href, email: email });
  }, true);
  w.abm = function () {
    var args = Array.prototype.slice.call(arguments);
    var fn = api[args[0]];
    if (fn) fn.apply(null, args.slice(1));
  };
  for (var i = 0; i < queued.length; i++) w.abm.apply(null, queued[i]);
  if (auto) api.page();
})(window, document);
