//! `openqps subscription …` and `openqps user …`: the tenants and logins of a database, managed
//! from the command line (Qualys manages them in its portal, which openqps does not serve).
//! They work on a database `serve` has set up, also while it runs. A new user or password is
//! taken at once; a server may go on accepting an old password for the minute it keeps a
//! successful login (crates/server/src/auth.rs), and bearer tokens end with the password.

use crate::serve::{DatabaseArgs, generate_password, hash_password};
use openqps_model::{DISABLED_PASSWORD, SubscriptionId};
use openqps_store::StoreError;
use std::io::Write;

/// Where a new password comes from: this variable, else one is generated and printed once.
const PASSWORD_VAR: &str = "OPENQPS_USER_PASSWORD";

#[derive(clap::Subcommand)]
pub enum SubscriptionCommand {
    /// A new subscription (tenant) with its first user. The password comes from
    /// OPENQPS_USER_PASSWORD, or is generated and printed once.
    Create {
        /// The subscription's name (1 to 100 characters).
        name: String,
        /// Its first user's login name: letters, digits and . _ @ + -, starting with a letter or
        /// digit.
        #[arg(long, value_name = "USERNAME")]
        user: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Every subscription: id, created, name and users.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// A new user in an existing subscription. The password comes from OPENQPS_USER_PASSWORD, or
    /// is generated and printed once.
    Add {
        /// The login name: letters, digits and . _ @ + -, starting with a letter or digit; unique
        /// across subscriptions, whatever the case.
        username: String,
        /// The subscription's id, as `openqps subscription list` shows it.
        #[arg(long, value_name = "ID")]
        subscription: i64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Sets a user's password (from OPENQPS_USER_PASSWORD, or generated and printed once); this
    /// also enables a disabled user. Bearer tokens issued before stop working.
    Password {
        username: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Stops a user from logging in (password and bearer tokens) until `user password` sets a
    /// new password. What the user made stays.
    Disable {
        username: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// A login name as Qualys gives them (`acme_ab12`, or an e-mail address): ASCII letters, digits
/// and `._@+-`, starting with a letter or digit, at most 100 characters. Nothing invisible or
/// look-alike, and nothing HTTP Basic could not carry (a `:` would end the name).
fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err("a username has 1 to 100 characters".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("a username starts with an ASCII letter or digit".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._@+-".contains(*c)))
    {
        return Err(format!(
            "a username cannot hold {c:?}: use letters, digits and . _ @ + - only"
        ));
    }
    Ok(())
}

fn check_subscription_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 || n > 100 {
        return Err("a subscription name has 1 to 100 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("a subscription name cannot hold control characters".into());
    }
    Ok(())
}

/// The new password and whether it was generated (and so must be shown).
fn new_password() -> Result<(String, bool), String> {
    let given = match std::env::var(PASSWORD_VAR) {
        Ok(p) => Some(p).filter(|p| !p.is_empty()),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("{PASSWORD_VAR} is not valid UTF-8"));
        }
    };
    match given {
        Some(p) if p.chars().any(char::is_control) => Err(format!(
            "{PASSWORD_VAR} holds a control character (a trailing newline?); no client could send it"
        )),
        Some(p) => Ok((p, false)),
        None => Ok((generate_password()?, true)),
    }
}

/// How the password is told: shown once when generated.
fn told(password: &str, generated: bool) -> String {
    if generated {
        format!("password: {password}  (shown once)")
    } else {
        format!("password from {PASSWORD_VAR}")
    }
}

fn no_user(username: &str) -> String {
    format!("no user is named '{username}'; `openqps subscription list` shows them")
}

pub async fn subscription(cmd: SubscriptionCommand) -> Result<(), String> {
    match cmd {
        SubscriptionCommand::Create { name, user, db } => {
            let name = name.trim();
            check_subscription_name(name)?;
            check_username(&user)?;
            let (password, generated) = new_password()?;
            let hash = hash_password(&password)?;
            let store = db.open_existing().await?;
            let sub = store
                .create_subscription(name, &user, &hash, jiff::Timestamp::now())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "Created subscription {} '{name}' with user '{user}'; {}",
                sub.0,
                told(&password, generated)
            );
        }
        SubscriptionCommand::List { db } => {
            let store = db.open_existing().await?;
            let mut out = format!("{:<6} {:<20} {:<24} USERS\n", "ID", "CREATED", "NAME");
            for s in store.subscriptions().await.map_err(|e| e.to_string())? {
                let created = jiff::Timestamp::from_second(s.created)
                    .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default();
                let users: Vec<String> = s
                    .users
                    .iter()
                    .map(|u| match u.disabled {
                        true => format!("{}(disabled)", u.username),
                        false => u.username.clone(),
                    })
                    .collect();
                out.push_str(&format!(
                    "{:<6} {created:<20} {:<24} {}\n",
                    s.id.0,
                    s.name,
                    users.join(",")
                ));
            }
            // `| head` closes the pipe early: that is not an error worth a panic.
            match std::io::stdout().lock().write_all(out.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(format!("cannot write the list: {e}"));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

pub async fn user(cmd: UserCommand) -> Result<(), String> {
    match cmd {
        UserCommand::Add {
            username,
            subscription,
            db,
        } => {
            check_username(&username)?;
            let (password, generated) = new_password()?;
            let hash = hash_password(&password)?;
            let store = db.open_existing().await?;
            store
                .add_user(SubscriptionId(subscription), &username, &hash)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound { .. } => format!(
                        "no subscription has id {subscription}; `openqps subscription list` shows them"
                    ),
                    e => e.to_string(),
                })?;
            println!(
                "Added user '{username}' to subscription {subscription}; {}",
                told(&password, generated)
            );
        }
        UserCommand::Password { username, db } => {
            let (password, generated) = new_password()?;
            let hash = hash_password(&password)?;
            let store = db.open_existing().await?;
            if !store
                .set_password(&username, &hash)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(no_user(&username));
            }
            println!(
                "Set a new password for user '{username}'; {}",
                told(&password, generated)
            );
        }
        UserCommand::Disable { username, db } => {
            let store = db.open_existing().await?;
            if !store
                .set_password(&username, DISABLED_PASSWORD)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(no_user(&username));
            }
            println!(
                "Disabled user '{username}': no login until `openqps user password {username}` \
                 (a running server may take a login it checked in the last minute)"
            );
        }
    }
    Ok(())
}
