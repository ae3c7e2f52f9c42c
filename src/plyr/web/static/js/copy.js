// Copy buttons: <button data-copy="#input-id">; announces the result for screen readers.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  const status = document.getElementById(button.getAttribute("aria-describedby"));
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    if (status) status.textContent = "copied";
  } catch {
    if (status) status.textContent = "press ctrl+c (cmd+c) to copy the selected token";
  }
});
