//! Email templates (`[templates.NAME]`) and their modular blocks (`[blocks.NAME]`): a subject
//! and a body in Jinja syntax (minijinja), with variables from the account, the contact and
//! the play, and blocks whose text is chosen by the account's industry, cluster and tier and
//! the person's buying role.
//!
//! A template that names a variable abm does not provide, or a block nobody defined, is an
//! error when the configuration loads — never a blank in a sent email. At send time a
//! variable whose value is missing for this person (no first name on record) fails the
//! render, and the guard records the touch as suppressed by the `template` rule; a template
//! that wants a fallback says so with `{{ contact.first_name | default("there") }}`.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The variables a template may use.
pub const VARIABLES: &[&str] = &[
    "account.name",
    "account.domain",
    "account.industry",
    "account.country",
    "account.tier",
    "account.cluster",
    "account.stage",
    "account.owner",
    "contact.first_name",
    "contact.last_name",
    "contact.email",
    "contact.title",
    "contact.role",
    "play.name",
    "topic",
    "why_now",
    "sender.name",
    "sender.email",
    "unsubscribe_url",
];

/// One `[templates.NAME]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailTemplate {
    pub subject: String,
    /// Plain text; abm adds the unsubscribe footer.
    pub body: String,
}

/// One `[blocks.NAME]`: the default text and the variants that replace it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub default: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<BlockVariant>,
}

/// A variant applies when every condition given holds (lists match any entry, any case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockVariant {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub industry: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role: Vec<String>,
    pub text: String,
}

/// What a block's variant is chosen by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockKeys<'a> {
    pub industry: Option<&'a str>,
    pub cluster: Option<&'a str>,
    pub tier: Option<&'a str>,
    pub role: Option<&'a str>,
}

impl Block {
    /// The text for this account and person: the first variant that matches, else the
    /// default.
    pub fn choose(&self, keys: &BlockKeys<'_>) -> &str {
        let holds = |list: &[String], value: Option<&str>| {
            list.is_empty()
                || value.is_some_and(|value| {
                    list.iter()
                        .any(|entry| entry.trim().eq_ignore_ascii_case(value.trim()))
                })
        };
        self.variants
            .iter()
            .find(|variant| {
                holds(&variant.industry, keys.industry)
                    && holds(&variant.cluster, keys.cluster)
                    && holds(&variant.tier, keys.tier)
                    && holds(&variant.role, keys.role)
            })
            .map_or(self.default.as_str(), |variant| variant.text.as_str())
    }
}

/// Templates and blocks, compiled once.
pub struct Templates {
    env: minijinja::Environment<'static>,
    blocks: BTreeMap<String, Block>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("blocks", &self.blocks.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

impl Templates {
    /// Compiles and checks every template: syntax, and that each variable it reads is one
    /// abm provides or a defined block.
    pub fn new(
        templates: &BTreeMap<String, EmailTemplate>,
        blocks: &BTreeMap<String, Block>,
    ) -> Result<Templates, String> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // Emails are plain text: nothing to escape.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let known: BTreeSet<String> = VARIABLES
            .iter()
            .map(|v| (*v).to_owned())
            .chain(blocks.keys().map(|name| format!("blocks.{name}")))
            .collect();
        for (name, block) in blocks {
            if name.trim().is_empty() || name.contains('.') {
                return Err(format!("blocks: {name:?} is not a usable block name"));
            }
            for (index, variant) in block.variants.iter().enumerate() {
                for tier in &variant.tier {
                    crate::tal::Tier::parse(tier)
                        .map_err(|error| format!("blocks.{name}.variants[{index}]: {error}"))?;
                }
                for role in &variant.role {
                    if crate::persona::BuyingRole::from_key(role.trim()).is_none() {
                        return Err(format!(
                            "blocks.{name}.variants[{index}]: role {role:?} is not a buying role"
                        ));
                    }
                }
            }
        }
        for (name, template) in templates {
            for (part, source) in [("subject", &template.subject), ("body", &template.body)] {
                let key = format!("{name}/{part}");
                env.add_template_owned(key.clone(), source.clone())
                    .map_err(|error| format!("templates.{name}.{part}: {error}"))?;
                let compiled = env
                    .get_template(&key)
                    .map_err(|error| format!("templates.{name}.{part}: {error}"))?;
                let mut unknown: Vec<String> = compiled
                    .undeclared_variables(true)
                    .into_iter()
                    .filter(|variable| !known.contains(variable))
                    .collect();
                unknown.sort();
                if let Some(first) = unknown.first() {
                    return Err(format!(
                        "templates.{name}.{part}: {{{{ {first} }}}} is not a variable abm provides (known: {})",
                        known.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            if template.subject.contains('\n') {
                return Err(format!("templates.{name}.subject: a subject is one line"));
            }
        }
        Ok(Templates {
            env,
            blocks: blocks.clone(),
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.env.get_template(&format!("{name}/subject")).is_ok()
    }

    pub fn blocks(&self) -> &BTreeMap<String, Block> {
        &self.blocks
    }

    /// Renders `name` with `context` (the variables, as a JSON-like value); blocks are
    /// chosen by `keys` and added to the context.
    pub fn render(
        &self,
        name: &str,
        context: &serde_json::Value,
        keys: &BlockKeys<'_>,
    ) -> Result<Rendered, String> {
        let mut context = context.clone();
        if let Some(object) = context.as_object_mut() {
            let chosen: serde_json::Map<String, serde_json::Value> = self
                .blocks
                .iter()
                .map(|(block, text)| (block.clone(), text.choose(keys).to_owned().into()))
                .collect();
            object.insert("blocks".to_owned(), chosen.into());
        }
        let part = |part: &str| -> Result<String, String> {
            let template = self
                .env
                .get_template(&format!("{name}/{part}"))
                .map_err(|_| format!("no template named {name:?}"))?;
            template
                .render(&context)
                .map_err(|error| format!("{name}.{part}: {error}"))
        };
        Ok(Rendered {
            subject: part("subject")?.trim().to_owned(),
            body: part("body")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(subject: &str, body: &str) -> Result<Templates, String> {
        let mut map = BTreeMap::new();
        map.insert(
            "hello".to_owned(),
            EmailTemplate {
                subject: subject.to_owned(),
                body: body.to_owned(),
            },
        );
        let mut blocks = BTreeMap::new();
        blocks.insert(
            "case_study".to_owned(),
            Block {
                default: "How teams like yours use us".to_owned(),
                variants: vec![BlockVariant {
                    industry: vec!["software".to_owned()],
                    cluster: vec![],
                    tier: vec![],
                    role: vec![],
                    text: "How Initech's engineers use us".to_owned(),
                }],
            },
        );
        Templates::new(&map, &blocks)
    }

    #[test]
    fn an_unknown_variable_is_an_error_at_load() {
        let error = templates("Hi {{ contact.nickname }}", "x").expect_err("unknown");
        assert!(error.contains("contact.nickname"), "{error}");
        let error = templates("Hi", "{{ blocks.missing }}").expect_err("unknown block");
        assert!(error.contains("blocks.missing"), "{error}");
        let error = templates("Hi {{ account.name", "x").expect_err("syntax");
        assert!(error.contains("templates.hello.subject"), "{error}");
        assert!(templates("Hi {{ contact.first_name }}", "{{ blocks.case_study }}").is_ok());
    }

    #[test]
    fn blocks_follow_the_account_and_missing_values_fail_the_render() {
        let templates = templates(
            "{{ account.name }} and {{ topic }}",
            "Hi {{ contact.first_name }},\n{{ blocks.case_study }}",
        )
        .expect("valid");
        let context = serde_json::json!({
            "account": {"name": "Initech"},
            "contact": {"first_name": "Ada"},
            "topic": "intent data",
        });
        let software = BlockKeys {
            industry: Some("Software"),
            ..BlockKeys::default()
        };
        let rendered = templates
            .render("hello", &context, &software)
            .expect("renders");
        assert_eq!(rendered.subject, "Initech and intent data");
        assert!(rendered.body.contains("Initech's engineers"));
        let other = templates
            .render("hello", &context, &BlockKeys::default())
            .expect("renders");
        assert!(other.body.contains("teams like yours"));
        let no_name =
            serde_json::json!({"account": {"name": "Initech"}, "contact": {}, "topic": "x"});
        assert!(templates.render("hello", &no_name, &software).is_err());
    }
}
