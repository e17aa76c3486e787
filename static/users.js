// Administrators: every account, creating one, resetting a password, making an administrator,
// deactivating and reactivating.

import { get, patch, post } from './api.js';
import { actionButton, ask, field, fill, form, h, orNull, showNotice, table, when, yesNo } from './ui.js';

export async function usersView(view, me) {
  document.title = 'Users · adthread';
  if (!me.is_admin) {
    view.replaceChildren(h('h1', {}, 'Users'), h('p', { class: 'error-text' }, 'Only administrators can manage users.'));
    return;
  }
  const list = h('section', { 'aria-label': 'Users' });
  const change = async (user, body, done) => {
    await patch(`/api/v1/users/${user.id}`, body);
    showNotice(done, 'ok');
    await reload();
  };
  const reload = () => fill(list, async () => {
    const users = await get('/api/v1/users');
    return table(['Email', 'Name', 'Admin', 'Active', 'Added', ''], users.map((user) => {
      const self = user.id === me.id;
      const name = [user.profile.first_name, user.profile.last_name].filter(Boolean).join(' ');
      return [
        h('span', {}, user.email, self ? h('small', { class: 'muted' }, ' (you)') : null),
        [name, user.profile.phone_number ? h('small', { class: 'block muted' }, user.profile.phone_number) : null],
        yesNo(user.is_admin),
        user.is_active ? 'yes' : h('strong', { class: 'warn' }, 'deactivated'),
        when(user.date_added),
        h('span', { class: 'row-actions' },
          actionButton('Reset password', async () => {
            const password = await ask({
              title: `New password for ${user.email}`,
              message: 'At least 8 characters. Every session of this user ends.',
              input: { label: 'New password', type: 'password', minlength: 8 },
              confirmLabel: 'Set password',
            });
            if (password !== null) await change(user, { password }, `The password of ${user.email} was reset.`);
          }, { class: 'secondary small' }),
          self ? null : actionButton(user.is_admin ? 'Remove admin' : 'Make admin', () =>
            change(user, { is_admin: !user.is_admin },
              `${user.email} is ${user.is_admin ? 'no longer' : 'now'} an administrator.`), { class: 'secondary small' }),
          self ? null : actionButton(user.is_active ? 'Deactivate' : 'Reactivate', async () => {
            if (user.is_active) {
              const sure = await ask({
                title: `Deactivate ${user.email}?`,
                message: 'They are signed out everywhere at once and can no longer sign in.',
                confirmLabel: 'Deactivate',
                danger: true,
              });
              if (!sure) return;
            }
            await change(user, { is_active: !user.is_active },
              `${user.email} is ${user.is_active ? 'deactivated' : 'active again'}.`);
          }, { class: user.is_active ? 'danger small' : 'secondary small' })),
      ];
    }));
  });
  const create = form({ class: 'card', 'aria-label': 'Create a user' }, [
    h('h2', {}, 'Create a user'),
    field('Email', 'email', { type: 'email', required: true, autocomplete: 'off' }),
    field('Password', 'password', { type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 8 characters.' }),
    field('First name', 'first_name'),
    field('Last name', 'last_name'),
    field('Phone number', 'phone_number', { type: 'tel' }),
    field('Administrator', 'is_admin', { type: 'checkbox' }),
  ], async (v, element) => {
    const user = await post('/api/v1/users', {
      email: v.email,
      password: v.password,
      is_admin: v.is_admin,
      first_name: orNull(v.first_name),
      last_name: orNull(v.last_name),
      phone_number: orNull(v.phone_number),
    });
    element.reset();
    showNotice(`${user.email} can now sign in.`, 'ok');
    await reload();
  }, 'Create user');
  view.replaceChildren(h('h1', {}, 'Users'), h('div', { class: 'columns' }, list, create));
  await reload();
}
