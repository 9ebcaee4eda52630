// <planet-page>: the person's public page. A DID of their own on the web
// (did:webvh), hosted by their server, which anyone can resolve and verify;
// under it a profile and a blog that anyone reads in any browser, signed by
// the person so that every word can be checked. PLANET writes and signs it
// all here; the server only stores it.

import { planet, errorMessage } from '../lib/api.js';
import { el, field, alertBox, statusLine, whileBusy } from '../lib/elements.js';
import { humanDate } from '../lib/format.js';
import { copyButton } from '../ui/copy-button.js';

/** @typedef {import('../planet.d.ts').PageInfo} PageInfo */
/** @typedef {import('../planet.d.ts').PagePost} PagePost */

/** A card with a heading. */
function card(/** @type {string} */ title, /** @type {Node[]} */ body) {
  const id = `page-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return el('section', { class: 'card stack', 'aria-labelledby': id }, el('h2', { id }, title), ...body);
}

/**
 * A post's preview: a toggle, and an area that shows the body as the post
 * page will, rendered again a moment after each change while it is open.
 */
function postPreview(/** @type {HTMLTextAreaElement} */ body) {
  const node = el('div', { class: 'page-preview', 'aria-live': 'polite', 'aria-label': 'Preview', 'data-testid': 'post-preview', hidden: true });
  const toggle = el('button', { type: 'button', class: 'button', 'aria-pressed': 'false', 'data-testid': 'post-preview-toggle' }, 'Preview');
  let timer = 0;
  let asked = 0;
  const refresh = async () => {
    if (node.hidden) return;
    const n = ++asked;
    try {
      const html = await planet.page.preview(body.value);
      if (n !== asked) return;
      // Markup from outside the page, inserted as markup: sound only because
      // it is made by PLANET's Markdown renderer (core/page/markdown, the
      // same code as the public page), which never passes the author's HTML
      // through (it shows as text), links only to http, https and mailto,
      // and is fuzzed for it; the tab's Content-Security-Policy allows no
      // inline script or style besides.
      node.innerHTML = html;
    } catch (err) {
      if (n === asked) node.textContent = errorMessage(err);
    }
  };
  body.addEventListener('input', () => {
    clearTimeout(timer);
    if (!node.hidden) timer = window.setTimeout(refresh, 300);
  });
  toggle.addEventListener('click', () => {
    node.hidden = !node.hidden;
    toggle.setAttribute('aria-pressed', String(!node.hidden));
    toggle.textContent = node.hidden ? 'Preview' : 'Hide preview';
    refresh();
  });
  // A link in the preview opens beside the tab, never in its place.
  node.addEventListener('click', (e) => {
    const a = e.target instanceof Element ? e.target.closest('a') : null;
    if (!a) return;
    e.preventDefault();
    window.open(a.href, '_blank', 'noopener');
  });
  return { node, toggle, refresh };
}

/** Links typed one per line, "title https://…" or just the address. */
function parseLinks(/** @type {string} */ text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const at = line.lastIndexOf(' ');
    const url = at < 0 ? line : line.slice(at + 1);
    const title = at < 0 ? '' : line.slice(0, at).trim();
    return { title: title || url, url };
  });
}

export class PageSection extends HTMLElement {
  #alert = alertBox();
  #body = el('div', { class: 'stack' });

  connectedCallback() {
    if (this.childElementCount) return;
    this.append(
      el('h1', { tabindex: -1 }, 'Your page'),
      el('p', { class: 'lead' },
        'A public page under an identifier you own: who you are, where else to find you, and a blog. Anyone can read it in any browser and check that every word is yours; you can take it to another server whenever you like.'),
      this.#alert.node,
      this.#body);
    this.#load();
  }

  async #load() {
    try {
      const page = await planet.page.get();
      this.#alert.clear();
      this.#body.replaceChildren(...(page ? this.#published(page) : [this.#createCard()]));
    } catch (err) {
      this.#alert.show(`Your page could not be read: ${errorMessage(err)}`);
    }
  }

  #createCard() {
    const name = el('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: false, maxlength: 63, pattern: '[a-z0-9]([a-z0-9-]*[a-z0-9])?', 'data-testid': 'page-name' });
    const alert = alertBox();
    const status = statusLine();
    const form = el('form', { class: 'stack', novalidate: true },
      field('Name on this server', name, 'Lowercase letters, digits and hyphens: it becomes the address of your page. First come, first served.'),
      alert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button primary', 'data-testid': 'page-create' }, 'Create my page'), status.node));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      alert.clear();
      status.show('Creating your identifier and publishing it…');
      try {
        await whileBusy(form, () => planet.page.create(name.value.trim()));
        status.clear();
        this.#load();
      } catch (err) {
        status.clear();
        alert.show(errorMessage(err));
      }
    });
    return card('Create your page', [form]);
  }

  /** @param {PageInfo} page */
  #published(page) {
    return [
      this.#identityCard(page),
      this.#profileCard(page),
      this.#credentialsCard(),
      this.#postsCard(page),
    ];
  }

  /** @param {PageInfo} page */
  #identityCard(page) {
    const didCode = el('code', { class: 'did', 'data-testid': 'page-did' }, page.did);
    const alert = alertBox();
    const status = statusLine();
    const rotate = el('button', { type: 'button', class: 'button', 'data-testid': 'page-rotate' }, 'Rotate the update key');
    rotate.addEventListener('click', async () => {
      alert.clear();
      rotate.disabled = true;
      try {
        const p = await planet.page.rotateKey();
        status.show(`Rotated: key ${p.key} now signs your identifier's log.`, 8000);
      } catch (err) {
        alert.show(errorMessage(err));
      } finally {
        rotate.disabled = false;
      }
    });
    const server = el('input', { type: 'url', autocomplete: 'off', spellcheck: false, placeholder: 'https://…', 'data-testid': 'page-move-server' });
    const moveAlert = alertBox();
    const moveStatus = statusLine();
    const moveForm = el('form', { class: 'stack', novalidate: true },
      field('Move to another server', server, 'Your identifier, page and posts go there; this server then sends visitors on. The same identifier, only its place changes.'),
      moveAlert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button', 'data-testid': 'page-move' }, 'Move'), moveStatus.node));
    moveForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      moveAlert.clear();
      moveStatus.show('Moving…');
      try {
        await whileBusy(moveForm, () => planet.page.move(server.value.trim()));
        this.#load();
      } catch (err) {
        moveStatus.clear();
        moveAlert.show(errorMessage(err));
      }
    });
    return card('Your identifier', [
      el('p', {}, 'Your page is at ', el('a', { href: page.url, target: '_blank', rel: 'noopener', 'data-testid': 'page-url' }, page.url), '.'),
      didCode,
      copyButton({
        label: 'Copy the identifier', text: page.did,
        select: () => getSelection()?.selectAllChildren(didCode),
        copied: ['Copied.', 4000], selected: ['Selected: copy it with your keyboard or menu.', 8000],
      }),
      el('p', { class: 'hint' },
        `Its log has ${page.versions} version${page.versions === 1 ? '' : 's'}, signed by update key ${page.key}; each commits to the next key, so only you can change it. Rotating reveals that next key and commits to a new one.`),
      alert.node,
      el('div', { class: 'row' }, rotate, status.node),
      moveForm,
    ]);
  }

  /** @param {PageInfo} page */
  #profileCard(page) {
    const p = page.profile ?? { name: '', summary: '', links: [] };
    const name = el('input', { type: 'text', maxlength: 200, value: p.name, 'data-testid': 'profile-name' });
    const summary = el('textarea', { rows: 3, maxlength: 2000, 'data-testid': 'profile-summary' });
    summary.value = p.summary;
    const links = el('textarea', { rows: 3, 'data-testid': 'profile-links' });
    links.value = p.links.map((l) => (l.title && l.title !== l.url ? `${l.title} ${l.url}` : l.url)).join('\n');
    const alert = alertBox();
    const status = statusLine();
    const shown = new Set(p.relationships ?? []);
    const people = el('fieldset', { class: 'stack page-shown' },
      el('legend', {}, 'Relationships to show'),
      el('p', { class: 'hint' }, 'Loading your connections…'));
    planet.contacts.list().then((contacts) => {
      const connected = contacts.filter((c) => c.did && c.connected);
      people.replaceChildren(el('legend', {}, 'Relationships to show'),
        ...(connected.length ? connected.map((c) => el('label', { class: 'check' },
          el('input', { type: 'checkbox', value: c.did, checked: shown.has(c.did), 'data-testid': 'profile-show' }),
          ` ${c.name}`)) : [el('p', { class: 'hint' }, 'No connections yet. Anyone you connect with can be shown here, by the name you gave them, if you choose.')]));
    }, (err) => alert.show(errorMessage(err)));
    const picture = el('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', 'data-testid': 'profile-picture' });
    picture.addEventListener('change', async () => {
      const file = picture.files?.[0];
      if (!file) return;
      alert.clear();
      status.show('Publishing the picture…');
      try {
        await planet.page.savePicture(new Uint8Array(await file.arrayBuffer()), file.type);
        status.show('Picture published.', 6000);
      } catch (err) {
        status.clear();
        alert.show(errorMessage(err));
      }
    });
    const form = el('form', { class: 'stack', novalidate: true },
      field('Picture', picture, 'A JPEG, PNG or WebP of at most 512 KiB, published as soon as you choose it.'),
      field('Name', name),
      field('About you', summary, 'A sentence or two, shown at the top of your page.'),
      field('Links', links, 'One per line: a title, a space, and the address (https://…).'),
      people,
      alert.node,
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'button primary', 'data-testid': 'profile-save' }, 'Sign and publish'), status.node));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      alert.clear();
      try {
        const relationships = [...people.querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
        await whileBusy(form, () => planet.page.saveProfile({ name: name.value.trim(), summary: summary.value.trim(), links: parseLinks(links.value), relationships }));
        status.show('Published.', 6000);
      } catch (err) {
        alert.show(errorMessage(err));
      }
    });
    return card('Profile', [form]);
  }

  /**
   * The relationship credentials shown on the page (whois.vp): the person's own kept ones and
   * the VRCs issued in their relationships, each as its issuer signed it. Saved on its own.
   */
  #credentialsCard() {
    const alert = alertBox();
    const status = statusLine();
    const legend = () => el('legend', {}, 'Credentials to show');
    const chosen = el('fieldset', { class: 'stack page-credentials' }, legend(), el('p', { class: 'hint' }, 'Loading your credentials…'));
    const save = el('button', { type: 'submit', class: 'button primary', 'data-testid': 'whois-save' }, 'Sign and publish');
    const short = (/** @type {string} */ d) => (d.length > 32 ? `${d.slice(0, 20)}…${d.slice(-6)}` : d);
    Promise.all([planet.credentials.list(), planet.relationships.list(), planet.page.whois()]).then(([kept, fpn, shown]) => {
      const on = new Set(shown.credentials);
      /** @type {{ id: string, text: string, verified: boolean }[]} */
      const items = [];
      for (const c of kept) {
        if (c.sharedBy) continue; // a contact's, about other people: not the person's to publish
        items.push({ id: c.id, text: `${short(c.issuer)} knows ${short(c.subject)}${c.context ? ` (${c.context})` : ''}, since ${humanDate(c.validFrom)}`, verified: c.verified });
      }
      for (const x of fpn.credentials) {
        const c = x.credential;
        if (x.state !== 'issued' || !c || items.some((i) => i.id === c.id)) continue;
        items.push({ id: c.id, text: `${short(c.issuer)} knows ${short(c.subject)} (a relationship on the First Person Network), since ${humanDate(c.validFrom)}`, verified: c.verified });
      }
      chosen.replaceChildren(legend(),
        ...(items.length ? items.map((i) => el('label', { class: 'check' },
          el('input', { type: 'checkbox', value: i.id, checked: on.has(i.id), 'data-testid': 'whois-show' }),
          ` ${i.text}${i.verified ? '' : ' — does not verify now'}`)) : [el('p', { class: 'hint' }, 'No relationship credentials yet. When you and someone you know exchange them, you can show them here.')]));
    }, (err) => alert.show(errorMessage(err)));
    const form = el('form', { class: 'stack', novalidate: true },
      el('p', { class: 'hint' }, 'Each is shown as its issuer signed it, with your own signature over the set (whois.vp), so anyone can check who said what.'),
      chosen, alert.node, el('div', { class: 'row' }, save, status.node));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      alert.clear();
      try {
        const ids = [...chosen.querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
        await whileBusy(form, () => planet.page.saveWhois(ids));
        status.show(ids.length ? 'Published.' : 'None shown now.', 6000);
      } catch (err) {
        alert.show(errorMessage(err));
      }
    });
    return card('Credentials', [form]);
  }

  /** @param {PageInfo} page */
  #postsCard(page) {
    const title = el('input', { type: 'text', maxlength: 300, required: true, 'data-testid': 'post-title' });
    const body = el('textarea', { rows: 8, required: true, 'data-testid': 'post-body' });
    let editing = '';
    const alert = alertBox();
    const status = statusLine();
    const submit = el('button', { type: 'submit', class: 'button primary', 'data-testid': 'post-publish' }, 'Sign and publish');
    const preview = postPreview(body);
    const form = el('form', { class: 'stack', novalidate: true },
      field('Title', title),
      field('Text', body, 'Markdown: **bold**, *italic*, [a link](https://…), # a heading, - a list, `code`; a blank line starts a new paragraph; addresses become links; HTML shows as text.'),
      preview.node,
      alert.node,
      el('div', { class: 'row' }, submit, preview.toggle, status.node));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      alert.clear();
      if (!title.value.trim() || !body.value.trim()) {
        alert.show('A post needs a title and some text.');
        return;
      }
      try {
        await whileBusy(form, () => planet.page.savePost({ slug: editing || undefined, title: title.value.trim(), body: body.value }));
        this.#load();
      } catch (err) {
        alert.show(errorMessage(err));
      }
    });
    const list = el('ul', { class: 'page-posts', 'aria-label': 'Your posts' },
      page.posts.length ? page.posts.map((post) => {
        const edit = el('button', { type: 'button', class: 'button', 'data-testid': 'post-edit' }, 'Edit');
        const remove = el('button', { type: 'button', class: 'button danger', 'data-testid': 'post-delete' }, 'Unpublish');
        edit.addEventListener('click', () => {
          editing = post.slug;
          title.value = post.title;
          body.value = post.body;
          preview.refresh();
          submit.textContent = 'Sign and publish the change';
          title.focus();
        });
        remove.addEventListener('click', async () => {
          remove.disabled = true;
          try {
            await planet.page.deletePost(post.slug);
            this.#load();
          } catch (err) {
            alert.show(errorMessage(err));
            remove.disabled = false;
          }
        });
        return el('li', { class: 'page-post', 'data-testid': 'page-post' },
          el('h3', {}, el('a', { href: `${page.url}posts/${post.slug}`, target: '_blank', rel: 'noopener' }, post.title)),
          el('p', { class: 'meta' }, `Published ${humanDate(post.published)}${post.updated !== post.published ? ` · edited ${humanDate(post.updated)}` : ''}`),
          el('div', { class: 'row' }, edit, remove));
      }) : [el('li', { class: 'empty' }, 'No posts yet.')]);
    return card('Blog', [list, el('h3', {}, 'Write a post'), form]);
  }
}

customElements.define('planet-page', PageSection);
