// "Copy" buttons: copy the value of the field named by data-copy-target, and say so to screen readers.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copyTarget);
  const status = document.getElementById(button.dataset.copyStatus);
  try {
    await navigator.clipboard.writeText(field.value);
    status.textContent = button.dataset.copiedText;
  } catch (error) {
    field.select();
    status.textContent = button.dataset.failedText;
  }
});
