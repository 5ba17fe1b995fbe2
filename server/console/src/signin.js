// The sign-in form shown while signed out.

import * as api from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';

/**
 * renderSignIn fills root with the sign-in form. onSignedIn(user) runs after
 * a successful sign-in; notice (optional) is shown above the form, e.g. when
 * a session ended.
 */
export function renderSignIn(root, { onSignedIn, notice }) {
  const emailId = uid('email');
  const passId = uid('password');
  const alert = h('p', { class: 'form-alert', role: 'alert', hidden: true });
  const email = h('input', { id: emailId, name: 'email', type: 'email', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: passId, name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', text: t('signin.submit') });

  const showError = (msg) => {
    alert.textContent = msg;
    alert.hidden = false;
  };

  const form = h(
    'form',
    {
      class: 'signin-form',
      'aria-labelledby': 'signin-title',
      novalidate: true,
      onSubmit: async (e) => {
        e.preventDefault();
        if (!email.value.trim() || !password.value) {
          (email.value.trim() ? password : email).focus();
          showError(t('signin.missing'));
          return;
        }
        alert.hidden = true;
        submit.disabled = true;
        form.setAttribute('aria-busy', 'true');
        try {
          const res = await api.signIn(email.value.trim(), password.value);
          onSignedIn(res?.user ?? null);
        } catch (err) {
          submit.disabled = false;
          form.removeAttribute('aria-busy');
          password.value = '';
          password.focus();
          if (err.status === 401 || err.status === 400) showError(t('signin.wrong'));
          else if (err.status === 429) showError(t('signin.tooMany', { seconds: Math.max(1, err.retryAfter || 60) }));
          else if (err.status === 503) showError(t('signin.overloaded'));
          else if (err.status === 0) showError(t('err.network'));
          else showError(err.message && err.status < 500 ? err.message : t('signin.failed'));
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: emailId, text: t('signin.email') }), email),
    h('div', { class: 'field' }, h('label', { for: passId, text: t('signin.password') }), password),
    alert,
    submit,
  );

  root.replaceChildren(
    h(
      'main',
      { class: 'signin' },
      h(
        'div',
        { class: 'signin-card' },
        h('div', { class: 'brand brand-lg', 'aria-hidden': 'true' }, h('span', { class: 'brand-mark' }), 'Parley'),
        h('h1', { id: 'signin-title', text: t('signin.title') }),
        h('p', { class: 'muted', text: t('signin.subtitle') }),
        notice ? h('p', { class: 'form-notice', role: 'status', text: notice }) : null,
        form,
      ),
    ),
  );
  email.focus();
}
