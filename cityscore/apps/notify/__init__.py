"""Messages that leave the kit: the digest mail, alert mails, SMTP sending and the chat webhook."""
