// Log in: exchange the name and password for a token (kept for writes) and the session cookie.
import { api, saveToken, showError } from "./app.js";

const form = document.getElementById("login");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const answer = await api("/api/login", {
      method: "POST",
      body: { username: form.username.value.trim(), password: form.password.value },
    });
    saveToken(answer.token);
    const next = new URLSearchParams(location.search).get("next") || "/ui/";
    location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/ui/");
  } catch (error) {
    showError("message", error);
    button.disabled = false;
  }
});
