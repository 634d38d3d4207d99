"""What follows a WhatsApp header: who wrote it, and whether it is a message at all.

A header is followed by ``author: text`` (a message) or by text alone (an Android system line
such as ``Alice added you``). iOS writes its system lines *with* an author, the chat's name,
and starts their text with U+200E LEFT-TO-RIGHT MARK (``Elon Musk: \u200eMessages and calls
are end-to-end encrypted…``), so those are recognised by that mark plus a known phrase.

Kinds returned by :func:`classify`:

``post``     a message (kept).
``media``    a message whose first line is a media placeholder such as ``<Media omitted>``,
             ``‎image omitted`` or ``<attached: …>`` (kept with that text: the poster and
             time are evidence, and Android puts a caption on the lines after it).
``system``   encryption notices, group events, security-code changes (skipped, counted).
``deleted``  "This message was deleted" and its translations (skipped, counted).

The phrase lists cover the languages of the sample exports (en, cs, de, es, fr, hi, id, it,
ja, pt, ru, th, uk, vi); an iOS group event in another language stays a post attributed to
the group's name rather than being dropped: a reader may keep noise, never lose messages.
"""

from __future__ import annotations

import re

LRM = "\u200e"

# Encryption notices open every export; distinctive enough to recognise without the mark
# (generated test exports and re-typed files lose it).
_ENCRYPTION_NOTICE = re.compile(
    r"^(?:Messages and calls are end-to-end encrypted"
    r"|Messages (?:you send )?to this (?:group|chat)(?: and calls)? are now secured with end-to-end encryption"
    r"|Zprávy a hovory jsou (?:zabezpečeny|opatřeny) koncovým šifrováním"
    r"|Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt"
    r"|Los mensajes y las llamadas están cifrados de extremo a extremo"
    r"|Les messages et les appels sont chiffrés de bout en bout"
    r"|I messaggi e le chiamate sono crittografati end-to-end"
    r"|As mensagens e (?:as )?chamadas são (?:encriptadas ponto a ponto|protegidas com a criptografia de ponta a ponta)"
    r"|Сообщения и звонки защищены сквозным шифрованием"
    r"|Повідомлення й дзвінки захищено наскрізним шифруванням"
    r"|मैसेजेस और कॉल्स एंड-टू-एंड एन्क्रिप्टेड हैं"
    r"|Pesan dan panggilan terenkripsi secara end-to-end"
    r"|メッセージと通話はエンドツーエンド暗号化されています"
    r"|ข้อความและการโทรได้รับการเข้ารหัสจากต้นทางถึงปลายทาง"
    r"|Tin nhắn và cuộc gọi được mã hóa đầu cuối)",
    re.IGNORECASE)

# iOS group and contact events (English), recognised only after the leading mark.
_IOS_EVENT = re.compile(
    r"^(?:You were added|You're now an admin|You created (?:the )?group .+|You joined using this group's invite link"
    r"|Your security code with .+ changed\..*|Disappearing messages were turned (?:on|off)\..*"
    r"|.+ (?:created (?:the )?group .+|created this group|added .+|removed .+|left|was removed"
    r"|joined using this group's invite link|changed the (?:subject|group name) (?:from|to) .+"
    r"|changed (?:the|this) group(?:'s)? (?:description|icon|settings.*)|deleted this group's icon"
    r"|changed (?:their|to) .+|is now an admin|turned (?:on|off) disappearing messages\..*))$",
    re.IGNORECASE | re.DOTALL)

_DELETED = {
    "this message was deleted", "you deleted this message",
    "tato zpráva byla odstraněna", "tuto zprávu jste odstranil/a", "tato zpráva byla smazána",
    "tuto zprávu jste smazal/a",
    "diese nachricht wurde gelöscht", "du hast diese nachricht gelöscht",
    "se eliminó este mensaje", "eliminaste este mensaje", "este mensaje fue eliminado",
    "ce message a été supprimé", "vous avez supprimé ce message",
    "questo messaggio è stato eliminato", "hai eliminato questo messaggio",
    "esta mensagem foi apagada", "apagou esta mensagem", "mensagem apagada", "você apagou esta mensagem",
    "данное сообщение удалено", "вы удалили данное сообщение", "это сообщение удалено",
    "це повідомлення було видалено", "ви видалили це повідомлення",
    "यह मैसेज डिलीट कर दिया गया है", "आपने यह मैसेज डिलीट किया",
    "pesan ini dihapus", "anda menghapus pesan ini",
    "このメッセージは削除されました", "このメッセージを削除しました",
    "ข้อความนี้ถูกลบแล้ว", "คุณได้ลบข้อความนี้",
    "tin nhắn này đã bị xóa", "bạn đã xoá tin nhắn này", "bạn đã xóa tin nhắn này",
}

# Media placeholders: Android `<Media omitted>` in any language, attachments in both shapes.
_MEDIA_LINE = re.compile(r"^(?:<[^<>\n]+>|.*<attached: [^>\n]+>|[\w.-]+\.\w{2,5} \([^()\n]+\))$")
_EDITED = "<This message was edited>"
_LONGEST_DELETED = max(map(len, _DELETED)) + 2
_TILDE = re.compile(r"^~ ?")


def split_author(first_line: str) -> tuple[str | None, str]:
    """``(author, text)`` of a header's first line, or ``(None, line)`` when there is no author.

    The author ends at the first ``": "`` (message text may contain more), or at a colon that
    ends the line. A candidate with an unclosed quote is not an author: it is an Android
    system line quoting a group name that contains ``": "``.
    """
    i = first_line.find(": ")
    if i < 0:
        if not first_line.endswith(":"):
            return None, first_line
        i = len(first_line) - 1
    author = first_line[:i]
    if author.count('"') % 2 or author.count("\u201c") != author.count("\u201d"):
        return None, first_line
    return author, first_line[i + 2:]


def clean_author(author: str) -> str:
    """The name as shown: marks removed, the ``~`` non-contact prefix dropped, plain hyphens.

    Phone numbers keep their digits and spacing as written (U+2011 non-breaking hyphens become
    ``-`` so Android and iOS exports of one number agree); pseudonymisation happens elsewhere.
    """
    return _TILDE.sub("", author.replace(LRM, "").replace("\u2011", "-").strip())


def clean_text(text: str) -> tuple[str, bool]:
    """Message text without marks or trailing blank lines, and whether it said it was edited."""
    text = text.replace(LRM, "").rstrip()
    if text.endswith(_EDITED):
        return text[: -len(_EDITED)].rstrip(), True
    return text, False


def classify(text: str, authored: bool) -> str:
    """``post``, ``media``, ``system`` or ``deleted`` for a message's raw text (marks still in place)."""
    if not authored:
        return "system"
    plain = text.replace(LRM, "").strip()
    if _ENCRYPTION_NOTICE.match(plain):
        return "system"
    if text.startswith(LRM):
        # iOS security-code notices start with two marks in every language seen.
        if text.startswith(LRM + LRM) or _IOS_EVENT.match(plain):
            return "system"
    if len(plain) <= _LONGEST_DELETED and plain.rstrip(".。।").casefold() in _DELETED:
        return "deleted"
    return "media" if is_media(text) else "post"


def is_media(text: str) -> bool:
    """True when a raw text's first line is a media placeholder or attachment."""
    first = text.partition("\n")[0]
    if LRM in first and "://" not in first:   # iOS: '‎image omitted', 'x.pdf ‎document omitted'
        return True
    return bool(_MEDIA_LINE.match(first.replace(LRM, "").strip()))
