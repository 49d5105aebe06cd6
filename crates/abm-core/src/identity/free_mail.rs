//! The maintained list of free-mail and disposable-mail domains (registrable domains). Add
//! to it here for everyone, or per team with `identity.free_mail_domains` in `abm.toml`.

#[rustfmt::skip]
pub(super) const DOMAINS: &[&str] = &[
    // large free-mail providers
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr",
    "hotmail.de", "hotmail.it", "hotmail.es", "live.com", "live.co.uk", "live.fr", "msn.com",
    "passport.com", "windowslive.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
    "yahoo.it", "yahoo.es", "yahoo.co.jp", "yahoo.com.br", "yahoo.co.in", "ymail.com",
    "rocketmail.com", "aol.com", "aim.com", "icloud.com", "me.com", "mac.com", "mail.com",
    "email.com", "usa.com", "gmx.com", "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "web.de",
    "t-online.de", "freenet.de", "posteo.de", "mailbox.org", "protonmail.com", "proton.me",
    "pm.me", "tutanota.com", "tuta.io", "zoho.com", "zohomail.com", "yandex.com", "yandex.ru",
    "ya.ru", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "rambler.ru", "qq.com", "163.com",
    "126.com", "sina.com", "sohu.com", "aliyun.com", "naver.com", "daum.net", "hanmail.net",
    "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "libero.it", "virgilio.it",
    "tiscali.it", "alice.it", "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com",
    "talktalk.net", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net",
    "charter.net", "cox.net", "earthlink.net", "optonline.net", "juno.com", "netzero.net",
    "shaw.ca", "rogers.com", "sympatico.ca", "bigpond.com", "optusnet.com.au", "xtra.co.nz",
    "rediffmail.com", "seznam.cz", "centrum.cz", "wp.pl", "o2.pl", "onet.pl", "interia.pl",
    "telenet.be", "skynet.be", "ziggo.nl", "kpnmail.nl", "home.nl", "bluewin.ch", "uol.com.br",
    "bol.com.br", "terra.com.br", "hey.com", "fastmail.com", "fastmail.fm", "hushmail.com",
    "lycos.com", "inbox.com", "gmx.us", "mail.de", "arcor.de", "online.de", "hotmail.nl",
    "outlook.fr", "outlook.de", "outlook.es", "outlook.it", "live.nl", "live.de", "live.it",
    // disposable-mail services
    "mailinator.com", "guerrillamail.com", "guerrillamail.net", "sharklasers.com",
    "10minutemail.com", "temp-mail.org", "tempmail.com", "tempmail.net", "throwawaymail.com",
    "yopmail.com", "yopmail.fr", "trashmail.com", "trashmail.de", "getnada.com", "dispostable.com",
    "maildrop.cc", "mailnesia.com", "mintemail.com", "mohmal.com", "fakeinbox.com",
    "spamgourmet.com", "emailondeck.com", "mytemp.email", "tempr.email", "discard.email",
    "burnermail.io", "33mail.com", "anonaddy.me", "simplelogin.io", "duck.com", "spam4.me",
    "grr.la", "mailcatch.com", "incognitomail.org", "jetable.org", "mail-temp.com",
];
