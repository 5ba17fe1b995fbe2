// Accepting an invitation: creates the account from the link's token, then
// opens the console signed in. Served on /invite?token=… (a plain page, not
// the console).
(function () {
  'use strict';
  const form = document.getElementById('invite');
  const error = document.getElementById('invite-error');
  if (!form) return;
  const button = form.querySelector('button[type="submit"]');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const data = new FormData(form);
    const body = { token: form.dataset.token || '', name: data.get('name'), password: data.get('password') };
    form.setAttribute('aria-busy', 'true');
    button.disabled = true;
    try {
      const res = await fetch('/api/v1/invites/accept', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.ok) {
        location.replace('/');
        return;
      }
      const problem = await res.json().catch(() => ({}));
      error.textContent = problem.message || form.dataset.failed + ' (' + res.status + ')';
    } catch (err) {
      error.textContent = form.dataset.offline;
    } finally {
      form.removeAttribute('aria-busy');
      button.disabled = false;
    }
  });
})();
