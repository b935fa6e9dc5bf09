// The installation check: asks Teller every two seconds whether the site's first event arrived.
(function () {
  'use strict';

  var box = document.getElementById('verify');
  var zone = document.querySelector('select[data-browser-zone]');
  if (zone && window.Intl && !zone.dataset.touched) {
    // Preselect the browser's own time zone when Teller knows it.
    var own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (own && zone.querySelector('option[value="' + own + '"]')) zone.value = own;
  }
  if (!box) return;
  var message = document.getElementById('verify-message');
  var detail = document.getElementById('verify-detail');
  var site = box.getAttribute('data-site');

  function show(kind, text, more) {
    box.className = 'verify verify-' + kind;
    message.textContent = text;
    detail.textContent = more || '';
  }

  function time(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString();
  }

  function check() {
    fetch(box.getAttribute('data-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return setTimeout(check, 5000);
        if (data.state === 'received') {
          show('received', 'Received: a ' + data.event + ' of ' + data.path + ' at ' + time(data.at) + '. Teller is installed on ' + site + '.',
            'The dashboard counts it from now on.');
          document.getElementById('verify-dashboard').hidden = false;
          return;
        }
        if (data.state === 'dropped') {
          show('dropped', 'An event of ' + site + ' reached Teller at ' + time(data.at) + ' but was dropped: ' + data.meaning + '.', data.advice);
        } else if (data.unknown_sites && data.unknown_sites.length) {
          show('dropped', 'Teller received events for ' + data.unknown_sites.join(', ') + ', which is not a registered site.',
            'Is data-domain in the script tag "' + site + '"?');
        }
        setTimeout(check, 2000);
      })
      .catch(function () { setTimeout(check, 5000); });
  }

  check();
})();
