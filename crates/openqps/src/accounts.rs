//! `openqps subscription …` and `openqps user …`: the tenants and logins of a database, managed
//! from the command line (Qualys manages them in its portal, which openqps does not serve).
//! They work on the database `serve` uses, also while it runs; a changed password is taken at
//! once, except that a server may go on accepting the old one for the minute it keeps a
//! successful login (crates/server/src/auth.rs).

use crate::serve::{DatabaseArgs, generate_password, hash_password};
use openqps_model::SubscriptionId;

/// Where a new password comes from: this variable, else one is generated and printed once.
const PASSWORD_VAR: &str = "OPENQPS_USER_PASSWORD";

#[derive(clap::Subcommand)]
pub enum SubscriptionCommand {
    /// A new subscription (tenant) with its first user; prints its id and the password.
    Create {
        /// The subscription's name.
        name: String,
        /// Its first user's login name.
        #[arg(long)]
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
    /// A new user in an existing subscription (by the id `subscription list` shows).
    Add {
        username: String,
        #[arg(long)]
        subscription: i64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Sets a user's password (from OPENQPS_USER_PASSWORD, or generated and printed).
    Password {
        username: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// A login name HTTP Basic can carry: not empty, no colon (it ends the name), no blanks or
/// control characters.
fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err("a username has 1 to 100 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| *c == ':' || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "a username cannot hold {c:?}: HTTP Basic credentials could not carry it"
        ));
    }
    Ok(())
}

/// The new password and whether it was generated (and so must be shown).
fn new_password() -> Result<(String, bool), String> {
    match std::env::var(PASSWORD_VAR).ok().filter(|p| !p.is_empty()) {
        Some(p) => Ok((p, false)),
        None => Ok((generate_password()?, true)),
    }
}

fn told(username: &str, password: &str, generated: bool) -> String {
    if generated {
        format!("user '{username}', password: {password}  (shown once)")
    } else {
        format!("user '{username}' (password from {PASSWORD_VAR})")
    }
}

pub async fn subscription(cmd: SubscriptionCommand) -> Result<(), String> {
    match cmd {
        SubscriptionCommand::Create { name, user, db } => {
            let name = name.trim();
            if name.is_empty() {
                return Err("a subscription needs a name".into());
            }
            check_username(&user)?;
            let store = db.open().await?;
            let (password, generated) = new_password()?;
            let sub = store
                .create_subscription(
                    name,
                    &user,
                    &hash_password(&password)?,
                    jiff::Timestamp::now(),
                )
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "Created subscription {} '{name}' with {}",
                sub.0,
                told(&user, &password, generated)
            );
        }
        SubscriptionCommand::List { db } => {
            let store = db.open().await?;
            println!("{:<6} {:<20} {:<24} USERS", "ID", "CREATED", "NAME");
            for s in store.subscriptions().await.map_err(|e| e.to_string())? {
                let created = jiff::Timestamp::from_second(s.created)
                    .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default();
                println!(
                    "{:<6} {created:<20} {:<24} {}",
                    s.id.0,
                    s.name,
                    s.usernames.join(",")
                );
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
            let store = db.open().await?;
            let (password, generated) = new_password()?;
            store
                .add_user(
                    SubscriptionId(subscription),
                    &username,
                    &hash_password(&password)?,
                )
                .await
                .map_err(|e| match e {
                    openqps_store::StoreError::NotFound { .. } => format!(
                        "no subscription has id {subscription}; `openqps subscription list` shows them"
                    ),
                    e => e.to_string(),
                })?;
            println!(
                "Added {} to subscription {subscription}",
                told(&username, &password, generated)
            );
        }
        UserCommand::Password { username, db } => {
            let store = db.open().await?;
            let (password, generated) = new_password()?;
            if !store
                .set_password(&username, &hash_password(&password)?)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no user is named '{username}'"));
            }
            println!("New password for {}", told(&username, &password, generated));
        }
    }
    Ok(())
}
