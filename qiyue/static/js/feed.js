// The calendar feed page: copy the secret address (a button), select it on focus.
document.addEventListener("DOMContentLoaded", () => {
  const field = document.getElementById("feed-url");
  const button = document.querySelector("[data-copy]");
  if (!field || !button) return;
  field.addEventListener("focus", () => field.select());
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch (error) {
      document.execCommand("copy");
    }
    button.querySelector(".copy-done")?.classList.remove("d-none");
  });
});
