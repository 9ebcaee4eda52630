// <planet-invite>: an invitation link opened in the open vault
// (#/invite/<token>). It says who invites and why, and accepting sends the
// inviter a relationship credential; they answer with theirs, directly or,
// when they are away, through their mailbox.

import { planet, errorMessage } from '../lib/api.js';
import { el, alertBox, statusLine } from '../lib/elements.js';

/** @typedef {import('../planet.d.ts').InvitationPreview} InvitationPreview */

export class InviteSection extends HTMLElement {
  /** The link as opened (location.href). */
  link = '';

  connectedCallback() {
    if (this.childElementCount) return;
    const alert = alertBox();
    const status = statusLine();
    const about = el('div', { class: 'stack' }, el('p', { class: 'loading' }, 'Reading the invitation…'));
    const accept = el('button', { type: 'button', class: 'button primary', disabled: true }, 'Accept invitation');
    const done = el('p', { hidden: true }, el('a', { href: '#/contacts' }, 'See your contacts'));
    accept.addEventListener('click', async () => {
      alert.clear();
      accept.disabled = true;
      status.show('Connecting…');
      try {
        const r = await planet.invitations.accept(this.link);
        status.show(r.delivered === 'direct'
          ? 'Connected: you and the person who invited you now hold each other\'s relationship credentials.'
          : 'Sent to their mailbox: you will be connected when they are next online.');
        done.hidden = false;
      } catch (err) {
        status.clear();
        alert.show(errorMessage(err));
        accept.disabled = false;
      }
    });
    this.append(
      el('h1', { tabindex: -1 }, 'Invitation'),
      el('section', { class: 'card', 'aria-labelledby': 'invite-heading' },
        el('h2', { id: 'invite-heading' }, 'Someone invites you to connect'),
        about,
        el('p', { class: 'hint' },
          'Accepting gives them a signed relationship credential from you, and they give you theirs. Only accept invitations from people you know.'),
        alert.node,
        el('div', { class: 'row' }, accept, el('a', { href: '#/home', class: 'button' }, 'Not now'), status.node),
        done));
    planet.invitations.read(this.link).then(
      (inv) => {
        about.replaceChildren(preview(inv));
        accept.disabled = false;
      },
      (err) => {
        about.replaceChildren();
        alert.show(errorMessage(err));
      });
  }
}

/** @param {InvitationPreview} inv */
function preview(inv) {
  return el('dl', { class: 'facts' },
    el('dt', {}, 'From'),
    el('dd', {}, el('code', { class: 'did', 'data-testid': 'inviter' }, inv.inviter)),
    ...(inv.note ? [el('dt', {}, 'Their note'), el('dd', { 'data-testid': 'invitation-note' }, inv.note)] : []),
    el('dt', {}, 'Valid until'),
    el('dd', {}, new Date(inv.expires).toLocaleString()));
}

customElements.define('planet-invite', InviteSection);
