package acl

import (
	"strconv"
	"strings"
)

// MQTT control packets (src/mqtt.c, include/haproxy/mqtt-t.h), read by the
// mqtt_is_valid and mqtt_field_value converters (configuration.txt 7.3.1).
// Only CONNECT and CONNACK are parsed, as in HAProxy 2.6; every other
// packet type is invalid. The parser reads untrusted bytes: each length
// is checked against what is left before it is used, and values are
// slices of the input, so it neither allocates nor reads out of bounds.

// mqttResult is mqtt_validate_message's answer.
type mqttResult int8

const (
	mqttInvalid  mqttResult = -1
	mqttNeedMore mqttResult = 0
	mqttValid    mqttResult = 1
)

// MQTT control packet types (MQTT_CPT_*).
const (
	mqttConnect = 1
	mqttConnack = 2
	mqttTypes   = 16
)

// mqttTypeFlags are the fixed header flags each packet type requires
// (mqtt_cpt_flags); PUBLISH's vary but HAProxy only accepts 0x0F.
var mqttTypeFlags = [mqttTypes]uint8{3: 0x0f, 6: 0x02, 8: 0x02, 10: 0x02}

var mqttTypeNames = [mqttTypes]string{"", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

// MQTT field names (MQTT_FN_*), in HAProxy's order: the first ones by
// name, the MQTT 5.0 properties by their property identifier.
const (
	mqttFnInvalid = iota
	mqttFnFlags
	mqttFnReasonCode
	mqttFnProtocolName
	mqttFnProtocolVersion
	mqttFnClientIdentifier
	mqttFnWillTopic
	mqttFnWillPayload
	mqttFnUsername
	mqttFnPassword
	mqttFnKeepalive
	mqttFnPayloadFormatIndicator
	mqttFnMessageExpiryInterval
	mqttFnContentType
	mqttFnResponseTopic
	mqttFnCorrelationData
	mqttFnSubscriptionIdentifier
	mqttFnSessionExpiryInterval
	mqttFnAssignedClientIdentifier
	mqttFnServerKeepalive
	mqttFnAuthenticationMethod
	mqttFnAuthenticationData
	mqttFnRequestProblemInformation
	mqttFnDelayInterval
	mqttFnRequestResponseInformation
	mqttFnResponseInformation
	mqttFnServerReference
	mqttFnReasonString
	mqttFnReceiveMaximum
	mqttFnTopicAliasMaximum
	mqttFnTopicAlias
	mqttFnMaximumQos
	mqttFnRetainAvailable
	mqttFnUserProperty
	mqttFnMaximumPacketSize
	mqttFnWildcardSubscriptionAvailable
	mqttFnSubscriptionIdentifiersAvailable
	mqttFnSharedSubscriptionAvailable
	mqttFnEntries
)

var mqttFieldNames = [mqttFnEntries]string{"", "flags", "reason_code", "protocol_name", "protocol_version",
	"client_identifier", "will_topic", "will_payload", "username", "password", "keepalive",
	"1", "2", "3", "8", "9", "11", "17", "18", "19", "21", "22", "23", "24", "25", "26", "28", "31",
	"33", "34", "35", "36", "37", "38", "39", "40", "41", "42"}

func mqttBits(ids ...int) uint64 {
	var m uint64
	for _, i := range ids {
		m |= 1 << i
	}
	return m
}

// mqttFieldsPerType are the field names mqtt_field_value accepts for each
// packet type (mqtt_fields_per_packet). Some of them are never found:
// HAProxy only extracts CONNECT and CONNACK fields, not user properties.
var mqttFieldsPerType = [mqttTypes]uint64{
	mqttConnect: mqttBits(mqttFnProtocolName, mqttFnProtocolVersion, mqttFnFlags, mqttFnKeepalive,
		mqttFnSessionExpiryInterval, mqttFnReceiveMaximum, mqttFnMaximumPacketSize, mqttFnTopicAliasMaximum,
		mqttFnRequestResponseInformation, mqttFnRequestProblemInformation, mqttFnUserProperty,
		mqttFnAuthenticationMethod, mqttFnAuthenticationData, mqttFnClientIdentifier, mqttFnDelayInterval,
		mqttFnPayloadFormatIndicator, mqttFnMessageExpiryInterval, mqttFnContentType, mqttFnResponseTopic,
		mqttFnCorrelationData, mqttFnWillTopic, mqttFnWillPayload, mqttFnUsername, mqttFnPassword),
	mqttConnack: mqttBits(mqttFnFlags, mqttFnProtocolVersion, mqttFnReasonCode, mqttFnSessionExpiryInterval,
		mqttFnReceiveMaximum, mqttFnMaximumQos, mqttFnRetainAvailable, mqttFnMaximumPacketSize,
		mqttFnAssignedClientIdentifier, mqttFnTopicAliasMaximum, mqttFnReasonString,
		mqttFnWildcardSubscriptionAvailable, mqttFnSubscriptionIdentifiersAvailable,
		mqttFnSharedSubscriptionAvailable, mqttFnServerKeepalive, mqttFnResponseInformation,
		mqttFnServerReference, mqttFnUserProperty, mqttFnAuthenticationMethod, mqttFnAuthenticationData),
	3: mqttBits(mqttFnPayloadFormatIndicator, mqttFnMessageExpiryInterval, mqttFnContentType,
		mqttFnResponseTopic, mqttFnCorrelationData, mqttFnSubscriptionIdentifier, mqttFnTopicAlias,
		mqttFnUserProperty),
	4:  mqttBits(mqttFnReasonCode, mqttFnReasonString, mqttFnUserProperty),
	5:  mqttBits(mqttFnReasonCode, mqttFnReasonString, mqttFnUserProperty),
	6:  mqttBits(mqttFnReasonCode, mqttFnReasonString, mqttFnUserProperty),
	7:  mqttBits(mqttFnReasonCode, mqttFnReasonString, mqttFnUserProperty),
	8:  mqttBits(mqttFnSubscriptionIdentifier, mqttFnUserProperty),
	9:  mqttBits(mqttFnReasonString, mqttFnUserProperty),
	10: mqttBits(mqttFnUserProperty),
	11: mqttBits(mqttFnReasonString, mqttFnUserProperty),
	14: mqttBits(mqttFnReasonCode, mqttFnSessionExpiryInterval, mqttFnServerReference,
		mqttFnReasonString, mqttFnUserProperty),
	15: mqttBits(mqttFnAuthenticationMethod, mqttFnAuthenticationData, mqttFnReasonString,
		mqttFnUserProperty),
}

// mqttTypeID is mqtt_typeid: a packet type number or name, 0 when
// unknown. The number is read as strl2ui does, without checking that the
// bytes are digits.
func mqttTypeID(s string) int {
	var id uint32
	for i := 0; i < len(s); i++ {
		id = id*10 - '0' + uint32(s[i])
	}
	if id >= mqttConnect && id < mqttTypes {
		return int(id)
	}
	for i := mqttConnect; i < mqttTypes; i++ {
		if strings.EqualFold(s, mqttTypeNames[i]) {
			return i
		}
	}
	return 0
}

// mqttFieldID is mqtt_check_type_fieldname: the field's id when the
// packet type has it, 0 otherwise.
func mqttFieldID(typ int, s string) int {
	for i, n := range mqttFieldNames {
		if strings.EqualFold(s, n) {
			if mqttFieldsPerType[typ]&(1<<i) != 0 {
				return i
			}
			return 0
		}
	}
	return 0
}

// CONNECT flags.
const (
	mqttFlReserved   = 0x01
	mqttFlWill       = 0x04
	mqttFlWillQos    = 0x18
	mqttFlWillRetain = 0x20
	mqttFlPassword   = 0x40
	mqttFlUsername   = 0x80
)

// Protocol versions.
const (
	mqttV311 = 4
	mqttV5   = 5
)

// mqttPkt is what parsing a packet found. Numbers and strings are kept
// by field id; strings are slices of the message.
type mqttPkt struct {
	typ     uint8
	version uint8
	remLen  uint32
	num     [mqttFnEntries]uint32
	str     [mqttFnEntries][]byte
}

func mqttUint8(b []byte) (uint32, []byte, bool) {
	if len(b) < 1 {
		return 0, nil, false
	}
	return uint32(b[0]), b[1:], true
}

func mqttUint16(b []byte) (uint32, []byte, bool) {
	if len(b) < 2 {
		return 0, nil, false
	}
	return uint32(b[0])<<8 | uint32(b[1]), b[2:], true
}

func mqttUint32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, nil, false
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), b[4:], true
}

// mqttVarint is mqtt_read_varint: at most four bytes, seven bits each.
// Running out of input in the middle is not an error there: the caller
// then finds too little data.
func mqttVarint(b []byte) (uint32, []byte, bool) {
	var v uint32
	shift, n := 0, 0
	for n < 4 && len(b) > 0 {
		c := b[0]
		v += uint32(c&127) << shift
		shift += 7
		b = b[1:]
		if c <= 127 {
			break
		}
		n++
	}
	if n == 4 {
		return 0, nil, false
	}
	return v, b, true
}

// mqttString reads a two-byte length then that many bytes.
func mqttString(b []byte) ([]byte, []byte, bool) {
	n, rest, ok := mqttUint16(b)
	if !ok || uint32(len(rest)) < n {
		return nil, nil, false
	}
	return rest[:n], rest[n:], true
}

// Property value kinds and checks.
const (
	propNone = iota
	prop1
	prop2
	prop4
	propStr
	propUser // a name and a value, repeatable
)

const (
	chkNone    = iota
	chkNonZero // "cannot be 0"
	chkBool    // "can have only 2 values: 0 or 1"
	chkNonEmpty
)

type mqttProp struct {
	kind, check uint8
}

// mqttProps lists the properties a property block may hold, by property
// identifier (which is also the field's name).
type mqttProps [0x2b]mqttProp

var mqttConnectProps = mqttProps{
	0x11: {prop4, chkNone}, 0x21: {prop2, chkNonZero}, 0x27: {prop4, chkNonZero}, 0x22: {prop2, chkNone},
	0x19: {prop1, chkBool}, 0x17: {prop1, chkBool}, 0x26: {propUser, chkNone},
	0x15: {propStr, chkNone}, 0x16: {propStr, chkNone},
}

var mqttWillProps = mqttProps{
	0x18: {prop4, chkNone}, 0x01: {prop1, chkBool}, 0x02: {prop4, chkNone}, 0x03: {propStr, chkNone},
	0x08: {propStr, chkNone}, 0x09: {propStr, chkNone}, 0x26: {propUser, chkNone},
}

var mqttConnackProps = mqttProps{
	0x11: {prop4, chkNone}, 0x21: {prop2, chkNonZero}, 0x24: {prop1, chkBool}, 0x25: {prop1, chkBool},
	0x27: {prop4, chkNonZero}, 0x12: {propStr, chkNonEmpty}, 0x22: {prop2, chkNone}, 0x1f: {propStr, chkNone},
	0x28: {prop1, chkBool}, 0x29: {prop1, chkBool}, 0x2a: {prop1, chkBool}, 0x13: {prop2, chkNone},
	0x1a: {propStr, chkNone}, 0x1c: {propStr, chkNone}, 0x26: {propUser, chkNone},
	0x15: {propStr, chkNone}, 0x16: {propStr, chkNone},
}

// mqttPropField maps a property identifier to its field id.
var mqttPropField = func() (m [0x2b]uint8) {
	for i := mqttFnPayloadFormatIndicator; i < mqttFnEntries; i++ {
		id, _ := strconv.Atoi(mqttFieldNames[i])
		m[id] = uint8(i)
	}
	return m
}()

// props reads a property block (its varint length, then the properties)
// into p. unknown is what an unknown property gives: CONNACK's parser
// answers "need more data" there, CONNECT's "invalid".
func (p *mqttPkt) props(b []byte, table *mqttProps, unknown mqttResult) ([]byte, mqttResult) {
	n, b, ok := mqttVarint(b)
	if !ok || uint32(len(b)) < n {
		return nil, mqttInvalid
	}
	blk, rest := b[:n], b[n:]
	var seen uint64
	for len(blk) > 0 {
		id := blk[0]
		if int(id) >= len(table) || table[id].kind == propNone {
			return nil, unknown
		}
		d := table[id]
		blk = blk[1:]
		if d.kind == propUser {
			// Only the last few are kept by HAProxy, and none is
			// extracted: just check they are there.
			if _, blk, ok = mqttString(blk); !ok {
				return nil, mqttInvalid
			}
			if _, blk, ok = mqttString(blk); !ok {
				return nil, mqttInvalid
			}
			continue
		}
		if seen&(1<<id) != 0 {
			return nil, mqttInvalid
		}
		seen |= 1 << id
		f := mqttPropField[id]
		var v uint32
		switch d.kind {
		case prop1:
			v, blk, ok = mqttUint8(blk)
		case prop2:
			v, blk, ok = mqttUint16(blk)
		case prop4:
			v, blk, ok = mqttUint32(blk)
		case propStr:
			p.str[f], blk, ok = mqttString(blk)
		}
		if !ok || d.check == chkNonZero && v == 0 || d.check == chkBool && v > 1 ||
			d.check == chkNonEmpty && len(p.str[f]) == 0 {
			return nil, mqttInvalid
		}
		p.num[f] = v
	}
	return rest, mqttValid
}

// connect is mqtt_parse_connect; b is what follows the fixed header.
func (p *mqttPkt) connect(b []byte) mqttResult {
	orig := len(b)
	var ok bool
	var v uint32
	if p.str[mqttFnProtocolName], b, ok = mqttString(b); !ok {
		return mqttInvalid
	}
	if name := string(p.str[mqttFnProtocolName]); !strings.EqualFold(name, "MQTT") && !strings.EqualFold(name, "MQIsdp") {
		return mqttInvalid
	}
	if v, b, ok = mqttUint8(b); !ok || v < 3 || v > mqttV5 {
		return mqttInvalid
	}
	p.version = uint8(v)
	p.num[mqttFnProtocolVersion] = v
	if v, b, ok = mqttUint8(b); !ok || v&mqttFlReserved != 0 {
		return mqttInvalid
	}
	flags := v
	p.num[mqttFnFlags] = v
	if flags&(mqttFlWill|mqttFlWillQos|mqttFlWillRetain) == mqttFlWillQos {
		return mqttInvalid
	}
	if p.num[mqttFnKeepalive], b, ok = mqttUint16(b); !ok {
		return mqttInvalid
	}
	var r mqttResult
	if p.version == mqttV5 {
		if b, r = p.props(b, &mqttConnectProps, mqttInvalid); r != mqttValid {
			return r
		}
	}
	// No authentication data without a method.
	if len(p.str[mqttFnAuthenticationMethod]) == 0 && len(p.str[mqttFnAuthenticationData]) != 0 {
		return mqttInvalid
	}
	if p.str[mqttFnClientIdentifier], b, ok = mqttString(b); !ok {
		return mqttInvalid
	}
	if flags&mqttFlWill != 0 {
		if p.version == mqttV5 {
			if b, r = p.props(b, &mqttWillProps, mqttInvalid); r != mqttValid {
				return r
			}
		}
		if p.str[mqttFnWillTopic], b, ok = mqttString(b); !ok {
			return mqttInvalid
		}
		if p.str[mqttFnWillPayload], b, ok = mqttString(b); !ok {
			return mqttInvalid
		}
	}
	if flags&mqttFlUsername != 0 {
		if p.str[mqttFnUsername], b, ok = mqttString(b); !ok {
			return mqttInvalid
		}
	}
	if flags&mqttFlPassword != 0 {
		if p.str[mqttFnPassword], b, ok = mqttString(b); !ok {
			return mqttInvalid
		}
	}
	if uint64(orig-len(b)) != uint64(p.remLen) {
		return mqttInvalid
	}
	return mqttValid
}

// connack is mqtt_parse_connack. HAProxy tells 3.1.1 from 5.0 by what
// follows the fixed header: exactly two bytes is 3.1.1.
func (p *mqttPkt) connack(b []byte) mqttResult {
	orig := len(b)
	if len(b) < 2 {
		return mqttInvalid
	}
	p.version = mqttV5
	if len(b) == 2 {
		p.version = mqttV311
	}
	p.num[mqttFnProtocolVersion] = uint32(p.version)
	if b[0]&0xfe != 0 {
		return mqttInvalid
	}
	p.num[mqttFnFlags], p.num[mqttFnReasonCode] = uint32(b[0]), uint32(b[1])
	b = b[2:]
	if p.version == mqttV5 {
		var r mqttResult
		if b, r = p.props(b, &mqttConnackProps, mqttNeedMore); r != mqttValid {
			return r
		}
	}
	if uint64(orig-len(b)) != uint64(p.remLen) {
		return mqttInvalid
	}
	return mqttValid
}

// parse is mqtt_validate_message.
func (p *mqttPkt) parse(msg []byte) mqttResult {
	*p = mqttPkt{}
	if len(msg) < 2 {
		return mqttNeedMore
	}
	typ, flags := msg[0]>>4, msg[0]&0x0f
	if typ == 0 || flags != mqttTypeFlags[typ] {
		return mqttInvalid
	}
	p.typ = typ
	n, rest, ok := mqttVarint(msg[1:])
	if !ok {
		return mqttInvalid
	}
	p.remLen = n
	if uint32(len(rest)) < n {
		return mqttNeedMore
	}
	switch typ {
	case mqttConnect:
		return p.connect(rest)
	case mqttConnack:
		return p.connack(rest)
	}
	return mqttInvalid
}

// mqttNumeric are the fields given as numbers; the others are strings,
// not found when empty.
var mqttNumeric = mqttBits(mqttFnFlags, mqttFnReasonCode, mqttFnProtocolVersion, mqttFnKeepalive,
	mqttFnPayloadFormatIndicator, mqttFnMessageExpiryInterval, mqttFnSessionExpiryInterval,
	mqttFnServerKeepalive, mqttFnRequestProblemInformation, mqttFnDelayInterval,
	mqttFnRequestResponseInformation, mqttFnReceiveMaximum, mqttFnTopicAliasMaximum, mqttFnMaximumQos,
	mqttFnRetainAvailable, mqttFnMaximumPacketSize, mqttFnWildcardSubscriptionAvailable,
	mqttFnSubscriptionIdentifiersAvailable, mqttFnSharedSubscriptionAvailable)

// mqttWillFields are the CONNECT will properties, only there with the
// will flag.
var mqttWillFields = mqttBits(mqttFnPayloadFormatIndicator, mqttFnMessageExpiryInterval, mqttFnContentType,
	mqttFnResponseTopic, mqttFnCorrelationData, mqttFnDelayInterval)

// mqttExtracted are the fields mqtt_field_value extracts of each packet
// type it parses; the others are accepted by the configuration but
// never found.
var mqttExtracted = [3]uint64{
	mqttConnect: mqttBits(mqttFnFlags, mqttFnProtocolName, mqttFnProtocolVersion, mqttFnClientIdentifier,
		mqttFnWillTopic, mqttFnWillPayload, mqttFnUsername, mqttFnPassword, mqttFnKeepalive,
		mqttFnPayloadFormatIndicator, mqttFnMessageExpiryInterval, mqttFnContentType, mqttFnResponseTopic,
		mqttFnCorrelationData, mqttFnSessionExpiryInterval, mqttFnAuthenticationMethod,
		mqttFnAuthenticationData, mqttFnRequestProblemInformation, mqttFnDelayInterval,
		mqttFnRequestResponseInformation, mqttFnReceiveMaximum, mqttFnTopicAliasMaximum,
		mqttFnMaximumPacketSize),
	mqttConnack: mqttBits(mqttFnFlags, mqttFnReasonCode, mqttFnProtocolVersion, mqttFnSessionExpiryInterval,
		mqttFnAssignedClientIdentifier, mqttFnServerKeepalive, mqttFnAuthenticationMethod,
		mqttFnAuthenticationData, mqttFnResponseInformation, mqttFnServerReference, mqttFnReasonString,
		mqttFnReceiveMaximum, mqttFnTopicAliasMaximum, mqttFnMaximumQos, mqttFnRetainAvailable,
		mqttFnMaximumPacketSize, mqttFnWildcardSubscriptionAvailable, mqttFnSubscriptionIdentifiersAvailable,
		mqttFnSharedSubscriptionAvailable),
}

// mqttAlways are the fields found in every protocol version.
var mqttAlways = mqttBits(mqttFnFlags, mqttFnReasonCode, mqttFnProtocolName, mqttFnProtocolVersion,
	mqttFnClientIdentifier, mqttFnWillTopic, mqttFnWillPayload, mqttFnUsername, mqttFnPassword, mqttFnKeepalive)

// field is mqtt_field_value on a parsed packet: the field as text
// appended to dst (numbers) or a slice of the message (strings).
func (p *mqttPkt) field(typ, f int, dst []byte) ([]byte, bool) {
	if int(p.typ) != typ || typ >= len(mqttExtracted) || mqttExtracted[typ]&(1<<f) == 0 {
		return nil, false
	}
	if mqttAlways&(1<<f) == 0 {
		if p.version != mqttV5 {
			return nil, false
		}
		if typ == mqttConnect && mqttWillFields&(1<<f) != 0 && p.num[mqttFnFlags]&mqttFlWill == 0 {
			return nil, false
		}
	}
	if mqttNumeric&(1<<f) != 0 {
		return strconv.AppendUint(dst, uint64(p.num[f]), 10), true
	}
	return p.str[f], len(p.str[f]) > 0
}

func init() {
	addConv(
		&convDef{name: "mqtt_is_valid", in: TypeBin, out: TypeBool, fn: convMQTTIsValid},
		&convDef{name: "mqtt_field_value", args: spec(2, aStr, aStr), in: TypeBin, out: TypeStr, fn: convMQTTFieldValue, check: checkMQTTField},
	)
}

func checkMQTTField(c *conv, _ *Context) error {
	typ := mqttTypeID(c.args[0].s)
	if typ == 0 {
		return errorf("Unknown MQTT type '%s'", c.args[0].s)
	}
	f := mqttFieldID(typ, c.args[1].s)
	if f == 0 {
		return errorf("Unknown MQTT field name '%s' for packet type '%s'", c.args[1].s, c.args[0].s)
	}
	c.i = int64(typ)<<8 | int64(f)
	return nil
}

func convMQTTIsValid(c *conv, t *Txn, v *Value) bool {
	var p mqttPkt
	return t.validity(v, int8(p.parse(v.B)))
}

func convMQTTFieldValue(c *conv, t *Txn, v *Value) bool {
	var p mqttPkt
	r := p.parse(v.B)
	t.settle(v, r == mqttNeedMore)
	if r != mqttValid {
		return false
	}
	typ, f := int(c.i>>8), int(c.i&0xff)
	if mqttNumeric&(1<<f) != 0 {
		b, ok := p.field(typ, f, t.tmp())
		if ok {
			v.Type, v.B = TypeStr, t.keep(b)
		}
		return ok
	}
	// A string is a slice of the message, which stays where it is.
	b, ok := p.field(typ, f, nil)
	v.Type, v.B = TypeStr, b
	return ok
}
