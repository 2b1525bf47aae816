"""Service settings: ``TONGBAN_*`` environment variables over an optional TOML file.

Precedence, highest first: values passed in code (command-line options), the
environment, the TOML file named by ``--config`` or ``TONGBAN_CONFIG``, the
defaults below. An unknown setting, in either place, is an error rather than
a silent no-op: a typo must not fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# SettingsError lives with the API's other errors (province code raises it too).
from api.errors import SettingsError as SettingsError
from ledger.chain.errors import ChainConfigError
from ledger.chain.node.connection import EMBEDDED, ChainConfig, check_chain_setting

ENV_PREFIX = "TONGBAN_"
CONFIG_ENV = "TONGBAN_CONFIG"
CLIENT_ENV = frozenset(
    {
        "TONGBAN_API_URL",
        "TONGBAN_API_TOKEN",
        "TONGBAN_WALLET",
        "TONGBAN_WALLET_PASSPHRASE",
        "TONGBAN_WALLET_UNLOCK_SECONDS",
        "TONGBAN_BACKUP_KEY_FILE",
    }
)
"""Variables of the command-line clients (issue, verify, wallet), not service settings."""
EMBEDDED_CHAIN_ID = 33044
DEMO_EVM_PASSPHRASE = "tongban-demo-only"  # noqa: S105 - the documented demo value
DEMO_KEY_PASSPHRASE = "tongban-demo-keys"  # noqa: S105 - the documented demo value

_config_file: ContextVar[Path | None] = ContextVar("tongban_config_file", default=None)


class Settings(BaseSettings):
    """Everything a province service reads at start-up."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the chain database, keys, store and logs; one service each.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description=(
            "postgresql://... selects the PostgreSQL store; unset: the SQLite file in data_dir"
        ),
    )
    chain: str = Field(
        default=EMBEDDED,
        description="'embedded' (ganache started here), 'anvil' (in memory) or a node URL.",
    )
    chain_id: int = Field(
        default=EMBEDDED_CHAIN_ID,
        gt=0,
        description="Chain id the node must serve; checked when connecting.",
    )
    block_time: float = Field(
        default=1.0, ge=0, description="Seconds between blocks of a chain started here."
    )
    rpc_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for the node.")
    node_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of a node started here; 0: the embedded chain's kept port "
        "(data_dir/chain/port), else a free one. The embedded chain keeps the port it used.",
    )
    node_modules: Path | None = Field(
        default=None, description="Folder holding the npm node_modules with ganache and anvil."
    )
    confirmations: int = Field(
        default=1, ge=1, description="Blocks on top of a transaction before it counts as final."
    )
    evm_key_passphrase: SecretStr = Field(
        default=SecretStr(DEMO_EVM_PASSPHRASE),
        description="Passphrase of the province's EVM account keystore.",
    )
    governors: tuple[str, ...] = Field(
        default=(),
        description="Governor accounts when this service deploys the consortium contracts; "
        "empty: the service's own account alone (a local trial, never production).",
    )
    governance_threshold: int = Field(
        default=1, ge=1, description="M of the M-of-N governor approvals (with governors set)."
    )
    key_passphrase: SecretStr = Field(
        default=SecretStr(DEMO_KEY_PASSPHRASE),
        description="Passphrase of the province's SM2 and pseudonym keystores (data_dir/keys).",
    )
    issuer_id: int = Field(
        default=1,
        ge=1,
        le=2**32 - 1,
        description="The province's issuer id in the registry (its audit log id too).",
    )
    division_code: int = Field(
        default=330000,
        ge=100000,
        le=999999,
        description="The province's GB/T 2260 division code (an attribute of the issuer).",
    )
    issuer_name: str = Field(
        default="Zhejiang",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9 ._-]+$",
        description="The province's name as the registry shows it (used when admitting it).",
    )
    signing_key_id: str = Field(
        default="key-1",
        pattern=r"^[A-Za-z0-9._-]{1,32}$",
        description="Key id of the first SM2 signing key (the fragment of its DID URL).",
    )
    registry: str | None = Field(
        default=None,
        description="IssuerRegistry address on a chain this service did not deploy; "
        "with credential_anchor and audit_anchor. Unset: the deployment record (or deploy).",
    )
    credential_anchor: str | None = Field(
        default=None, description="CredentialAnchor address (see registry)."
    )
    audit_anchor: str | None = Field(
        default=None, description="AuditAnchor address (see registry)."
    )
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on.")
    http_port: int = Field(
        default=8080, ge=0, le=65535, description="Port of the HTTP API; 0 picks a free one."
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$",
        description="The API's public base URL as others reach it (status list URLs); "
        "unset: http://<http_host>:<http_port> (none with port 0 or a wildcard host).",
    )
    wallet_http_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of the citizen's wallet origin (/wallet, docs/wallet.md) on "
        "http_host, served by the same workers; unset: no wallet; 0 picks a free one. "
        "The demo serves it at http_port + 10.",
    )
    wallet_public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#@]+$",
        description="The wallet's origin as browsers reach it (scheme://host[:port]); the "
        "API's OpenID4VP routes allow it by CORS. Unset: http://<http_host>:<wallet_http_port>.",
    )
    consortium_directory: Path | None = Field(
        default=None,
        description="The signed consortium directory (JSON, docs/citizen-timeline.md), served "
        "at /.well-known/tongban-directory.json; its walletOrigins may call the citizen routes.",
    )
    citizen_cors_origins: tuple[str, ...] = Field(
        default=(),
        description="More wallet origins (scheme://host[:port]) allowed by CORS on the citizen "
        "routes, beside this service's own wallet and the directory's; never '*'.",
    )
    status_list_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="How often the writer regenerates changed status lists; also their "
        "ttl and Cache-Control max-age.",
    )
    workers: int = Field(
        default=2, ge=1, le=64, description="HTTP worker processes beside the writer."
    )
    role: Literal["all", "api", "writer"] = Field(
        default="all",
        description="'all': one host is the writer and serves the API (deploys, provisions); "
        "'api': HTTP workers only; 'writer': the writer's duties only (no HTTP). 'api' and "
        "'writer' join a provisioned province: they need a chain URL and the three addresses.",
    )
    writer_lease_seconds: float = Field(
        default=15.0,
        ge=1.0,
        le=600.0,
        description="Time-to-live of the writer lease: a standby writer takes over about this "
        "long after the active one stopped renewing it (died, paused, cut off).",
    )
    demo: bool = Field(
        default=False,
        description="Seed a demo consortium (3 governors, 2-of-3; provinces 330000 and 440000) "
        "on a local chain. Refused on a URL chain.",
    )
    governor_keystore: Path | None = Field(
        default=None,
        description="Keystore of a governor EVM account this service acts for on the "
        "/governance routes (none: those routes answer 503).",
    )
    governor_key_passphrase: SecretStr = Field(
        default=SecretStr(DEMO_EVM_PASSPHRASE),
        description="Passphrase of governor_keystore.",
    )
    batch_size: int = Field(
        default=1000, ge=1, le=2**20, description="Credentials per anchored batch (at most)."
    )
    batch_max_wait_ms: int = Field(
        default=2000, ge=0, description="Longest a credential waits before its batch is sealed."
    )
    checkpoint_seconds: float = Field(
        default=5.0, gt=0, description="Checkpoint the audit log at least this often (if grown)."
    )
    checkpoint_events: int = Field(
        default=10_000, ge=1, description="Checkpoint the audit log after this many new events."
    )
    client_rate: float = Field(
        default=1000.0,
        gt=0,
        description="Requests per second each API client may make, per HTTP worker.",
    )
    client_burst: int = Field(
        default=2000, ge=1, description="Requests an API client may make at once (bucket size)."
    )
    zhengzhao_lookup_rate: float = Field(
        default=5.0,
        gt=0,
        description="证照标识 lookups (POST /zhengzhao/lookup) per second each API client "
        "may make, per HTTP worker (its own bucket, beside client_rate).",
    )
    zhengzhao_lookup_burst: int = Field(
        default=20, ge=1, description="证照标识 lookups an API client may make at once."
    )
    # Transport security (docs/tls.md); checked at start-up by api.runtime.tls.
    tls_cert: Path | None = Field(
        default=None,
        description="PEM certificate chain the API serves over TLS (1.2+); with tls_key. "
        "Reloaded on SIGHUP.",
    )
    tls_key: Path | None = Field(
        default=None, description="PEM private key of tls_cert (unencrypted, mode 0600)."
    )
    tls_client_ca: Path | None = Field(
        default=None,
        description="PEM CA bundle: enables optional client certificates verified against "
        "it, mapped to API clients by SPKI fingerprint (needs tls_cert).",
    )
    allow_plain_http: bool = Field(
        default=False,
        description="Serve plain HTTP on a non-loopback http_host (behind a proxy that "
        "terminates TLS); refused otherwise.",
    )
    # Staff sign-in (统一身份认证) and JWT access tokens (docs/signin.md).
    oidc_issuer: str | None = Field(
        default=None,
        description="Issuer URL of the province's OpenID provider for staff sign-in "
        "(unset: no staff sign-in; the portal's pages cannot be used).",
    )
    oidc_client_id: str | None = Field(
        default=None, description="This service's client id at oidc_issuer."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="The client secret of oidc_client_id (client_secret_basic)."
    )
    oidc_group_roles: str = Field(
        default="",
        description="Provider groups to Tongban roles: 'group=role[,role];group2=role'. "
        "A staff member whose groups map to no role is refused.",
    )
    oidc_groups_claim: str = Field(
        default="groups", description="The ID token claim that lists the staff member's groups."
    )
    oidc_api_audience: str | None = Field(
        default=None,
        description="This province's API identifier: bearer JWT access tokens (RFC 9068) "
        "from oidc_issuer with this audience are accepted beside tb_ tokens (unset: none).",
    )
    oidc_scope_roles: str = Field(
        default="",
        description="Access-token scopes to Tongban roles: 'scope=role[,role];scope2=role'.",
    )
    staff_session_idle_seconds: int = Field(
        default=900, ge=60, le=86_400, description="A staff session ends after this long unused."
    )
    staff_session_max_seconds: int = Field(
        default=28_800,
        ge=300,
        le=86_400,
        description="A staff session ends this long after sign-in, used or not.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        # The message must not repeat the value: the URL may carry a password.
        if value is not None and not value.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("must be a postgresql:// URL (unset: the SQLite file in data_dir)")
        return value

    @field_validator("chain")
    @classmethod
    def _chain_kind(cls, value: str) -> str:
        try:
            return check_chain_setting(value)
        except ChainConfigError:
            raise ValueError("must be 'embedded', 'anvil' or an http(s):// URL") from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Code over environment over the TOML file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = _config_file.get()
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def store_path(self) -> Path:
        """The province's SQLite store in the data directory (unused when ``database_url`` is set).

        Which store the service opens is decided in one place: ``api.runtime.store``.
        """
        return self.data_dir / "store.sqlite"

    @property
    def uses_demo_passphrase(self) -> bool:
        """Whether a keystore passphrase is still a published demo value."""
        return self.demo_passphrase_setting is not None

    @property
    def demo_passphrase_setting(self) -> str | None:
        """The first passphrase setting still at its published demo value, if any."""
        demo = {
            "evm_key_passphrase": (self.evm_key_passphrase, DEMO_EVM_PASSPHRASE),
            "key_passphrase": (self.key_passphrase, DEMO_KEY_PASSPHRASE),
        }
        if self.governor_keystore is not None:
            demo["governor_key_passphrase"] = (self.governor_key_passphrase, DEMO_EVM_PASSPHRASE)
        for name, (secret, value) in demo.items():
            if secret.get_secret_value() == value:
                return _env_name(name)
        return None

    @property
    def keys_dir(self) -> Path:
        """Where the province's keystores live."""
        return self.data_dir / "keys"

    def chain_config(self) -> ChainConfig:
        """The chain layer's view of these settings."""
        return ChainConfig(
            chain=self.chain,
            chain_id=self.chain_id,
            data_dir=self.data_dir,
            block_time=self.block_time,
            rpc_timeout=self.rpc_timeout,
            node_port=self.node_port,
            node_modules=self.node_modules,
        )


def _env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _check_unknown_environment(environ: Mapping[str, str]) -> None:
    known = {_env_name(name) for name in Settings.model_fields} | {CONFIG_ENV} | CLIENT_ENV
    unknown = sorted(
        k for k in environ if k.upper().startswith(ENV_PREFIX) and k.upper() not in known
    )
    if unknown:
        raise SettingsError(
            f"unknown setting {unknown[0]} in the environment; known settings: "
            + ", ".join(sorted(known))
        )


def _check_toml(path: Path) -> None:
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"config file {path} does not exist (--config / {CONFIG_ENV})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(document) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(
            f"unknown setting {unknown[0]!r} in {path}; known settings: "
            + ", ".join(sorted(Settings.model_fields))
        )


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, or raise ``SettingsError`` naming the first bad one.

    Error messages name the setting and the rule it broke, never its value
    (a value may be a passphrase).
    """
    env = os.environ
    _check_unknown_environment(env)
    if config_file is None and env.get(CONFIG_ENV):
        config_file = Path(env[CONFIG_ENV])
    if config_file is not None:
        _check_toml(config_file)
    token = _config_file.set(config_file)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        name = ".".join(str(part) for part in first["loc"])
        raise SettingsError(
            f"invalid setting {_env_name(name) if name else '?'}: {first['msg']}"
        ) from None
    finally:
        _config_file.reset(token)
