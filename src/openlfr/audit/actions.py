"""Every kind of audit event, by name (stable strings: third parties parse the log)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # accounts and access
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    PASSWORD_CHANGED = "auth.password_changed"
    TOTP_ENROLLED = "auth.totp_enrolled"
    TOTP_REMOVED = "auth.totp_removed"
    LOGOUT = "auth.logout"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    # watchlists and biometric data
    WATCHLIST_CREATED = "watchlist.created"
    WATCHLIST_VERSIONED = "watchlist.versioned"
    WATCHLIST_READ = "watchlist.read"
    WATCHLIST_FROZEN = "watchlist.frozen"
    WATCHLIST_PURGED = "watchlist.purged"
    SUBJECT_ENROLLED = "subject.enrolled"
    SUBJECT_ENROLMENT_REJECTED = "subject.enrolment_rejected"
    SUBJECT_REMOVED = "subject.removed"
    SUBJECT_EXPIRED = "subject.expired"
    REFERENCE_IMAGE_VIEWED = "reference_image.viewed"
    TEMPLATES_LOADED = "templates.loaded"
    # deployments
    DEPLOYMENT_CREATED = "deployment.created"
    DEPLOYMENT_UPDATED = "deployment.updated"
    DEPLOYMENT_AUTHORISED = "deployment.authorised"
    DEPLOYMENT_STARTED = "deployment.started"
    DEPLOYMENT_STOPPED = "deployment.stopped"
    RUN_COUNTS_RECORDED = "deployment.run_counts"
    DEPLOYMENT_CLOSED = "deployment.closed"
    DEPLOYMENT_PURGED = "deployment.purged"
    THRESHOLD_CHANGED = "deployment.threshold_changed"
    EVIDENCE_OVERRIDDEN = "deployment.evidence_overridden"
    CALIBRATION_STORED = "calibration.stored"
    CAMERA_ADDED = "camera.added"
    CAMERA_REMOVED = "camera.removed"
    CAMERA_PREVIEW_OPENED = "camera.preview_opened"
    CAMERA_ALARM = "camera.alarm"
    # alerts
    ALERT_CREATED = "alert.created"
    ALERT_READ = "alert.read"
    ALERTS_LISTED = "alert.listed"
    ALERT_CROP_VIEWED = "alert.crop_viewed"
    ALERT_ADJUDICATED = "alert.adjudicated"
    ALERT_HOLD_SET = "alert.hold_set"
    ALERT_HOLD_RELEASED = "alert.hold_released"
    ALERT_STREAM_OPENED = "alert.stream_opened"
    ALERTS_PURGED = "retention.alerts_purged"
    # the system itself
    RETENTION_RUN = "retention.run"
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_REMOVED = "subscription.removed"
    AUDIT_VERIFIED = "audit.verified"
    AUDIT_EXPORTED = "audit.exported"
