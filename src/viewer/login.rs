//! The setup and login page, and the small settings file that remembers the last server.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the viewer remembers between runs: never the password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub url: Option<String>,
    pub user: Option<String>,
}

impl Remembered {
    /// The default settings file: `$XDG_CONFIG_HOME/wiredraw/viewer.json`, else
    /// `~/.config/wiredraw/viewer.json`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".config")))?;
        Some(base.join("wiredraw").join("viewer.json"))
    }

    /// Reads the file; a missing or unreadable one remembers nothing (and says why in the log).
    pub fn load(path: &Path) -> Remembered {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|error| {
                tracing::warn!(path = %path.display(), %error, "ignoring unreadable viewer settings");
                Remembered::default()
            }),
            Err(_) => Remembered::default(),
        }
    }

    /// Writes the file (creating its folder).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text)
    }
}

/// The login page's fields and state.
#[derive(Debug, Clone, Default)]
pub struct LoginForm {
    pub url: String,
    pub user: String,
    pub password: String,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// An attempt is under way.
    pub waiting: bool,
}

/// What the page asks for when its button is pressed.
pub struct LoginAttempt {
    pub url: String,
    pub user: String,
    pub password: String,
}

// Written by hand so that a logged or asserted attempt never shows the password.
impl std::fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAttempt")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl LoginForm {
    /// Checks the fields before anything is sent.
    pub fn attempt(&self) -> Result<LoginAttempt, String> {
        let url = self.url.trim();
        if url.is_empty() {
            return Err("enter the server URL, e.g. http://127.0.0.1:8750".into());
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "{url:?} is not a server URL: it starts with http:// (e.g. http://{url})"
            ));
        }
        if self.user.trim().is_empty() {
            return Err("enter your user name".into());
        }
        if self.password.is_empty() {
            return Err("enter your password".into());
        }
        Ok(LoginAttempt {
            url: url.to_string(),
            user: self.user.trim().to_string(),
            password: self.password.clone(),
        })
    }

    /// Draws the page; returns an attempt when the user submits valid fields.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<LoginAttempt> {
        let mut submitted = None;
        ui.vertical_centered(|ui| {
            ui.add_space((ui.available_height() * 0.25).max(20.0));
            ui.heading("wiredraw");
            ui.label("Who talks to whom on your network, live.");
            ui.add_space(16.0);
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_max_width(420.0);
                egui::Grid::new("login")
                    .num_columns(2)
                    .spacing([12.0, 8.0])
                    .show(ui, |ui| {
                        ui.label("Server URL");
                        ui.add(
                            egui::TextEdit::singleline(&mut self.url)
                                .hint_text("http://127.0.0.1:8750")
                                .desired_width(280.0),
                        );
                        ui.end_row();
                        ui.label("User");
                        ui.add(egui::TextEdit::singleline(&mut self.user).desired_width(280.0));
                        ui.end_row();
                        ui.label("Password");
                        let password = ui.add(
                            egui::TextEdit::singleline(&mut self.password)
                                .password(true)
                                .desired_width(280.0),
                        );
                        ui.end_row();
                        let enter =
                            password.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                        ui.label("");
                        let button = ui.add_enabled(!self.waiting, egui::Button::new("Log in"));
                        if (button.clicked() || enter) && !self.waiting {
                            match self.attempt() {
                                Ok(attempt) => {
                                    self.error = None;
                                    self.waiting = true;
                                    submitted = Some(attempt);
                                }
                                Err(message) => self.error = Some(message),
                            }
                        }
                        ui.end_row();
                    });
                if self.waiting {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("connecting…");
                    });
                }
                if let Some(error) = &self.error {
                    ui.colored_label(egui::Color32::from_rgb(255, 120, 110), error);
                }
            });
        });
        submitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_before_sending() {
        let mut form = LoginForm {
            url: "127.0.0.1:8750".into(),
            user: "analyst".into(),
            password: "pw".into(),
            ..LoginForm::default()
        };
        assert!(form.attempt().unwrap_err().contains("http://"));
        form.url = " http://127.0.0.1:8750 ".into();
        assert_eq!(form.attempt().unwrap().url, "http://127.0.0.1:8750");
        form.password.clear();
        assert!(form.attempt().unwrap_err().contains("password"));
    }

    #[test]
    fn settings_remember_url_and_user_but_have_no_password_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("viewer.json");
        assert_eq!(Remembered::load(&path), Remembered::default());
        let remembered = Remembered {
            url: Some("http://10.1.2.3:8750".into()),
            user: Some("analyst".into()),
        };
        remembered.save(&path).unwrap();
        assert_eq!(Remembered::load(&path), remembered);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("password"));
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Remembered::load(&path), Remembered::default());
    }
}
