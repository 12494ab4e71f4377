// labmesh login page: POST /api/v1/login with the user and a password or an API token. The
// server answers with the session as an HttpOnly cookie (never visible here) and the page goes
// back to where it came from (?next=, a path on this server only) or to the hosts page.
'use strict';

(function () {
  function $(id) { return document.getElementById(id); }

  // Only a path on this server: "/x" but not "//host" or "/\host" (both leave the origin).
  function nextPath() {
    const next = new URLSearchParams(window.location.search).get('next');
    if (!next || next[0] !== '/' || next[1] === '/' || next[1] === '\\') return '/';
    return next;
  }

  function showError(message) {
    const banner = $('login-error');
    banner.textContent = message;
    banner.hidden = !message;
  }

  function updateKind() {
    const token = $('login-kind').value === 'token';
    $('login-secret-label').textContent = token ? 'API token' : 'Password';
    $('login-secret').autocomplete = token ? 'off' : 'current-password';
  }

  async function submit(event) {
    event.preventDefault();
    showError('');
    const body = { user: $('login-user').value.trim() };
    body[$('login-kind').value === 'token' ? 'token' : 'password'] = $('login-secret').value;
    $('login-submit').disabled = true;
    try {
      let response;
      try {
        response = await fetch('/api/v1/login', {
          method: 'POST',
          cache: 'no-store',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(body),
        });
      } catch (e) {
        showError('cannot reach the labmesh web server (' + e.message + ')');
        return;
      }
      if (response.ok) {
        window.location.replace(nextPath());
        return;
      }
      let detail = response.statusText;
      try {
        const error = await response.json();
        if (error && error.error) detail = error.error;
      } catch (e) {
        // not JSON: keep the status text
      }
      showError('Login failed: ' + detail);
      $('login-secret').value = '';
      $('login-secret').focus();
    } finally {
      $('login-submit').disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-kind').addEventListener('change', updateKind);
    $('login-form').addEventListener('submit', submit);
    updateKind();
  });
})();
