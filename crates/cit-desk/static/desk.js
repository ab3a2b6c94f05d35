// Small enhancements of the desk; every page works without them.
// Forms or buttons with data-confirm ask before they are sent.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const button = event.submitter;
  const message = (button && button.dataset.confirm) || form.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// The path of the page on screen (an upload may put another page in its place).
let shownPath = window.location.pathname;

// An upload form with data-upload-progress shows how much has been sent: the same post, made
// with XMLHttpRequest to follow its progress, then the answer shown as the browser would show it.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const box = form.dataset.uploadProgress && document.getElementById(form.dataset.uploadProgress);
  if (!box || event.defaultPrevented || !window.FormData || !window.XMLHttpRequest) return;
  const file = form.querySelector('input[type=file]');
  if (!file || !file.files || file.files.length === 0) return;
  event.preventDefault();
  const bar = box.querySelector('progress');
  const text = box.querySelector('[data-progress-text]');
  const button = form.querySelector('button[type=submit]');
  box.hidden = false;
  if (button) button.disabled = true;
  const xhr = new XMLHttpRequest();
  xhr.open('POST', form.action);
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((e.loaded / e.total) * 100);
    bar.value = pct;
    text.textContent = pct + '%';
  });
  xhr.addEventListener('load', () => {
    // The page the server answered (the new file's page, or the form with its errors) takes
    // the place of this one, as a plain post would have done.
    const doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
    const body = doc.querySelector('.desk-body');
    const here = document.querySelector('.desk-body');
    if (!body || !here) {
      window.location.assign(xhr.responseURL || form.action);
      return;
    }
    here.replaceWith(body);
    document.title = doc.title;
    if (xhr.responseURL && xhr.responseURL !== window.location.href) {
      window.history.pushState({}, '', xhr.responseURL);
    }
    shownPath = window.location.pathname;
    const focus = body.querySelector('#problem') || body.querySelector('main');
    if (focus) focus.focus();
  });
  xhr.addEventListener('error', () => {
    text.textContent = 'Caricamento non riuscito: riprova.';
    if (button) button.disabled = false;
  });
  xhr.send(new FormData(form));
});
// After an upload put its answer in place, going back (or forward) over it shows the page the
// address names. A link to an anchor of the page shown also fires popstate: that one is left alone.
window.addEventListener('popstate', () => {
  if (window.location.pathname !== shownPath) window.location.reload();
});
