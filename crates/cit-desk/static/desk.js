// Small enhancements of the desk; every page works without them.
// Forms or buttons with data-confirm ask before they are sent.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const button = event.submitter;
  const message = (button && button.dataset.confirm) || form.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
