//! `abm link EMAIL MESSAGE_ID [--url URL]`: signed tracking links for an email sent outside
//! abm (a rep's 1:1 email): the open pixel, and a click link that redirects to URL. The opens
//! and clicks land on the contact's timeline like any tracked event; and the one-click
//! unsubscribe link every email of a play carries.

use super::Context;
use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct LinkArgs {
    /// The recipient's email
    email: String,
    /// The email's message id (or any id unique to that email)
    message_id: String,
    /// Where a click goes (http or https); without it only the open pixel is printed
    #[arg(long)]
    url: Option<String>,
    /// The address the server answers on, as recipients reach it
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
}

pub fn run(context: &Context, args: &LinkArgs) -> Result<ExitCode> {
    let email = match abm_core::Email::parse(&args.email) {
        Ok(email) => email,
        Err(error) => bail!("{:?} is not an email: {error}", args.email),
    };
    if args.message_id.is_empty() || args.message_id.len() > 200 {
        bail!("the message id must be 1 to 200 characters");
    }
    let mut store = context.open_store()?;
    let now = jiff::Timestamp::now().as_microsecond();
    let key = abm_store::tracking::secret(store.sql(), "link", now, abm_web::auth::new_secret)?;
    let base = args.base.trim_end_matches('/');
    let open = abm_core::tracking::LinkPayload {
        message_id: args.message_id.clone(),
        email: email.as_str().to_owned(),
        url: None,
    };
    println!(
        "open\t{base}/t/o/{}.gif",
        abm_core::tracking::sign_link(key.as_bytes(), &open)
    );
    println!(
        "unsubscribe\t{}",
        abm_engine::plays::deliver::unsubscribe_url(
            base,
            key.as_bytes(),
            &args.message_id,
            email.as_str()
        )
    );
    if let Some(url) = &args.url {
        let click = abm_core::tracking::LinkPayload {
            url: Some(url.clone()),
            ..open
        };
        let token = abm_core::tracking::sign_link(key.as_bytes(), &click);
        if let Err(error) = abm_core::tracking::verify_link(key.as_bytes(), &token) {
            bail!("{url:?} can not be a tracked link: {error}");
        }
        println!("click\t{base}/t/c/{token}");
    }
    Ok(ExitCode::SUCCESS)
}
