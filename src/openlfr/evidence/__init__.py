"""Evidence for courts and complaints bodies: sealed alert packs and use logs, checked offline."""
